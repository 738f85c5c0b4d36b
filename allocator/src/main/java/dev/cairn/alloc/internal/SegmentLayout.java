package dev.cairn.alloc.internal;

import dev.cairn.alloc.internal.size.SizeClasses;

/**
 * Where everything sits inside a segment. All metadata is off-heap, at the start of the segment, so {@code free}
 * finds a block's page by arithmetic alone: segment base (radix lookup, or masking), then
 * {@code (address - base) >>> pageShift} indexes the page descriptors.
 *
 * <pre>
 * segment (aligned to the segment size S)
 * +--------------------+-----------------------------+------------------------------------------------+
 * | header (128 B)     | page descriptors            | page 0 area (starts after the metadata) | page 1 ...
 * +--------------------+-----------------------------+------------------------------------------------+
 * page area:  [ blocks: reserved x blockSize ][ bitmaps ]   (checked mode only)
 * bitmaps:    per 64 blocks, two longs: the live word, then the remote-freed word (one address computation finds
 *             both, and they share a cache line: a remote free reads the one and sets a bit in the other, so
 *             apart they cost it two line transfers; measured 2x slower on sh8bench, docs/benchmarks.md)
 * </pre>
 *
 * <p>Segment kinds: SMALL pages of 64 KiB (blocks up to 8 KiB), MEDIUM of 512 KiB (up to 64 KiB), LARGE of 4 MiB
 * (up to 512 KiB); every page holds at least 8 blocks. HUGE segments hold one block of any size, have one
 * descriptor, and use page shift 63 so the same "(address - base) >>> shift" arithmetic yields page 0.
 *
 * <p>Blocks start at the page start, which is aligned to the largest power of two dividing the block size (up to
 * 64 KiB; pages after page 0 are aligned to their page size anyway), so a power-of-two block is aligned to its size:
 * this is what {@code mallocAligned} relies on. Bitmaps sit after the blocks so they never spoil that alignment.
 *
 * <p>Descriptor invariants (checked by {@code validate()}): {@code used + |free| + |localFree| == capacity <=
 * reserved}, where {@code used} still counts the blocks on {@code xthreadFree} until the owner collects them; a
 * block is on at most one list; in checked mode a block's live bit is set exactly when it is handed out and not on
 * a local list, and its remote bit is set while it sits on {@code xthreadFree} or waits as a pending delayed free;
 * after a raced double free (Pages), a block may also be free on a local list, or set aside by its heap, with its
 * remote bit set, until the collection or the claimant's end resolves it.
 */
final class SegmentLayout {

    private SegmentLayout() {
    }

    // ---- segment header (owned by the segment's heap unless noted) ----
    /** {@code base ^ allocator cookie}: a stale or foreign header never matches. */
    static final long SEG_COOKIE = 0;
    /** Thread id of the owning heap's thread; compared on every free to pick the local path. */
    static final long SEG_OWNER_TID = 8;
    static final long SEG_SIZE = 16;
    static final long SEG_KIND = 24;        // int
    static final long SEG_PAGE_SHIFT = 28;  // int
    static final long SEG_PAGE_COUNT = 32;  // int
    static final long SEG_USED_PAGES = 36;  // int: pages holding a size class
    static final long SEG_HEAP_ID = 40;     // int: owning heap
    static final long SEG_FIRST_PAGE = 44;  // int: first page index whose area lies past the metadata
    /**
     * int: the lowest page index that may be unused (every page from the first one up to it holds a size class).
     * Raised by the page search to the page it finds and by formatting that page, lowered when a page is given up:
     * the search is first-fit, so pages in use stay packed at the start of the segment and {@link #SEG_PAGE_END}
     * stays low.
     */
    static final long SEG_NEXT_FREE_HINT = 48;
    /**
     * int: 1 when the owning heap is an arena's. Written when the segment is formatted; arenas never abandon or
     * adopt segments (an arena whose thread ended with it open is destroyed when reaped), so it holds for the
     * segment's life. {@code freeDelayed} refuses arena blocks by it without looking the heap up.
     */
    static final long SEG_ARENA = 52;
    // Abandoned segments only (see AbandonedPool): written by whoever holds the segment exclusively, except
    // SEG_ABANDONED_FREES, which remote frees into the abandoned segment increment atomically.
    /** long: blocks in use when the segment was last abandoned or swept. */
    static final long SEG_ABANDONED_LIVE = 56;
    /** long: frees pushed into the abandoned segment since then (a trigger for sweeping it, not an exact count). */
    static final long SEG_ABANDONED_FREES = 64;
    /** long: nanoTime when the segment was abandoned. */
    static final long SEG_ABANDONED_AT = 72;
    /**
     * int: 1 once a block of the segment was handed out as a {@code MemorySegment} ({@code allocate}, or an arena's
     * segment): the segment's memory then stays mapped until the allocator closes (see SegmentStore, "Exposed
     * segments"). Kept across reuse of the segment.
     */
    static final long SEG_EXPOSED = 80;
    /**
     * Int, huge segments: 1 when the block's memory was known to read as zeros when the segment was handed out
     * (fresh from the OS, or purged with {@code MADV_DONTNEED} and never exposed), so {@code calloc} need not write
     * them (and make them resident).
     */
    static final long SEG_ZEROED = 84;
    /**
     * int: the heap tag of the heaps that may own the segment ({@code Allocator.heap(int)}): written when the segment
     * is formatted for a heap and kept while it is abandoned, so that only a heap of the same tag adopts it, and a
     * walk of one tag ({@code visitBlocks(int, ...)}) finds its blocks by the header alone.
     */
    static final long SEG_TAG = 88;
    /**
     * long, abandoned segments: the one thread that frees into the segment, {@link #NO_FREER} or
     * {@link #MANY_FREERS}; a hint for adoption (AbandonedPool, "Which segment a heap adopts"). Set when the segment
     * is abandoned from its pages' {@link #LAST_FREER}, then by frees into it while it is pooled
     * ({@code AllocatorImpl.pushAbandoned}); plain accesses.
     */
    static final long SEG_LAST_FREER = 96;
    /** {@code SEG_LAST_FREER}: nobody has freed into the abandoned segment (no thread has id 0). */
    static final long NO_FREER = 0;
    /**
     * {@code SEG_LAST_FREER}: several threads free into the abandoned segment (no thread has a negative id, and -1 is
     * {@link #SHARED_OWNER}, the owner id a shared heap adopts with, which must not match it).
     */
    static final long MANY_FREERS = -2;
    /**
     * long: nanoTime before which no retired page of the segment is purged, though its own deadline has passed: the
     * segment is still retiring pages, so its pages are still being reused (RetiredPages, "A busy segment's pages
     * wait"). 0 until the first retirement; written by the owner under its retired pages' lock.
     */
    static final long SEG_PURGE_GATE = 104;
    /**
     * int: one past the highest page index formatted since the segment was set up; no page at or past it holds a
     * size class or awaits its purge. Raised by {@code Pages.format}, lowered by {@code AbandonedPool.settle}, both
     * by whoever holds the segment's page slots. The walks that run on every thread turnover (settle, an adopter's
     * enqueue) stop here instead of reading all 512 descriptors of a small segment (64 KiB of metadata): with 40
     * pages in use, a settle took 20-25 us reading them all and 14-19 us stopping here (docs/benchmarks.md, "Where a
     * turnover's time goes, and walks that stop at the last page").
     * Walks that must see a page whatever its state (validation, stats, dumps) read every descriptor, and validation
     * checks this bound.
     */
    static final long SEG_PAGE_END = 112;
    static final long HEADER_SIZE = 128;

    // ---- page descriptor ----
    // Two cache lines (descriptors are 64-byte aligned): the first holds what the owner writes on every malloc and
    // free; the second what other threads read to prove and free a block, written only when the page is formatted,
    // and the cross-thread list they push on. A remote free then never touches the line the owner is writing.
    static final long FREE = 0;             // long: allocation list (owner only)
    static final long LOCAL_FREE = 8;       // long: owner frees (owner only)
    /**
     * The free path reads these three as one long ({@code STATE}): every FFM access costs C2 many IR nodes before
     * it simplifies them, and fewer accesses keep the whole free path under C2's inlining node budget. The owner's
     * malloc and free also write {@code USED} as this whole long (the other two fields unchanged, and only the owner
     * writes them): a 4-byte store followed by an 8-byte load of the same word cannot be store-forwarded, and that
     * stall was 29% of a malloc+free pair's time (perf, PairLoop, 2026-11-26).
     */
    static final long STATE = 16;
    static final long USED = 16;            // int: blocks handed out, including those on XTHREAD_FREE
    static final long FLAGS = 20;           // short: IN_FULL | HUGE | PURGE_PENDING; zero on the free fast path
    /** short: 1 while the page is its bin's only queued page: emptying it then needs no slow path (owner only). */
    static final long RETAIN = 22;
    static final long CAPACITY = 24;        // int: blocks carved into lists so far
    /** int: the heap that owns the page ({@code PAGE_OWNER}'s heap); 0 for none (pooled page or segment). */
    static final long PAGE_HEAP = 28;
    static final long NEXT = 32;            // long: next page in its heap queue (owner only)
    static final long PREV = 40;            // long: previous page in its heap queue (owner only)
    static final long PURGE_DEADLINE = 48;  // long: nanoTime after which an unused page's memory is purged
    /**
     * long, checked mode: the grace stamp taken when the page was last given up ({@code SegmentStore.graceStamp});
     * formatting it again waits for that grace (docs/design/allocator.md, section 5). 0 when never given up.
     */
    static final long GRACE = 56;
    // second line: read by any thread, written at format time, except the cross-thread list
    static final long XTHREAD_FREE = 64;    // long: other threads' frees, pushed by CAS, taken by swap
    static final long PAGE_START = 72;      // long: first block
    static final long BLOCKS_BYTES = 80;    // long: reserved * blockSize; 0 while the page is unused
    static final long RECIPROCAL = 88;      // long: ceil(2^40 / blockSize), for exact block indices
    static final long LIVE_MAP = 96;        // long: address of the block bitmaps (checked mode), else 0
    static final long BLOCK_SIZE = 104;     // int (huge blocks: capped at Integer.MAX_VALUE; BLOCKS_BYTES is exact)
    static final long RESERVED = 108;       // int: blocks that fit
    static final long BIN = 112;            // int: the size class; -1 for a huge block's page
    /**
     * int: the low 32 bits of the id of the thread whose remote free last landed on the page (a hint for the
     * abandoned pool's choice of adopter; plain store before the push).
     */
    static final long LAST_FREER = 116;
    /**
     * long: the thread of the heap that owns the page, which alone touches its lists, counters and live bits (the
     * first line above): the heap's thread, {@link #SHARED_OWNER} for a shared heap, {@link #NO_OWNER} in an abandoned
     * segment, {@link #pooledBy} the thread that gave it in the page pool. Usually the segment's owner; a page another heap adopted from
     * the page pool ({@code PagePool}) has another. Written by whoever moves the page (its owner, or the holder of
     * the page pool's lock or of its abandoned segment), read by every free to choose the local or the remote path.
     */
    static final long PAGE_OWNER = 120;
    static final long DESCRIPTOR_SIZE = 128;

    static final int FLAG_IN_FULL = 1;
    static final int FLAG_HUGE = 2;
    static final int FLAG_PURGE_PENDING = 4;
    /** With {@link #FLAG_PURGE_PENDING}: the deadline was moved once already (RetiredPages.postponeOnce). */
    static final int FLAG_PURGE_POSTPONED = 8;

    static final int RECIPROCAL_SHIFT = 40;

    /**
     * Low bit of {@code XTHREAD_FREE}: the page's segment is abandoned (blocks are 16-byte aligned, so a list head
     * never has it). Set and cleared only with the swap that takes the list, so every remote free is either taken by
     * that swap or sees the tag it leaves; link words inside blocks never carry it.
     */
    static final long ABANDONED_TAG = 1;

    /** {@code SEG_OWNER_TID} of an abandoned segment: no thread has id 0, so every free of it is remote. */
    static final long NO_OWNER = 0;
    /**
     * {@code SEG_OWNER_TID} of a shared (virtual-thread) heap's segments: no thread has it; a free takes the heap's lock
     * to free as its owner, or pushes remotely when the heap is busy.
     */
    static final long SHARED_OWNER = -1;
    /**
     * {@code PAGE_OWNER} of a page in the page pool whose heap ended; {@link #pooledBy} for one a live heap gave. No
     * heap owns it: every free of it is a remote push, except one by the giver's thread (or, for this value, by a
     * thread with a heap of its tag), which takes it back (PagePool).
     */
    static final long PAGE_POOLED = -2;

    /**
     * {@code PAGE_OWNER} of a page the thread {@code tid} gave to the page pool: below {@link #PAGE_POOLED}, so a free
     * tells its own pooled pages from others' with one compare (thread ids are positive).
     */
    static long pooledBy(long tid) {
        return PAGE_POOLED - tid;
    }

    /** Whether a {@code PAGE_OWNER} value says the page is in the page pool. */
    static boolean isPooled(long owner) {
        return owner <= PAGE_POOLED;
    }

    enum Kind {
        SMALL(16, SizeClasses.SMALL_MAX),
        MEDIUM(19, SizeClasses.MEDIUM_MAX),
        LARGE(22, SizeClasses.LARGE_MAX),
        HUGE(63, Long.MAX_VALUE);

        final int pageShift;
        final long maxBlock;

        Kind(int pageShift, long maxBlock) {
            this.pageShift = pageShift;
            this.maxBlock = maxBlock;
        }

        long pageSize() {
            return 1L << pageShift;
        }

        static Kind forBlock(long blockSize) {
            if (blockSize <= SMALL.maxBlock) {
                return SMALL;
            }
            return blockSize <= MEDIUM.maxBlock ? MEDIUM : blockSize <= LARGE.maxBlock ? LARGE : HUGE;
        }
    }

    static long descriptor(long segment, int pageIndex) {
        return segment + HEADER_SIZE + pageIndex * DESCRIPTOR_SIZE;
    }

    static int pageIndex(long segment, long descriptor) {
        return (int) ((descriptor - segment - HEADER_SIZE) / DESCRIPTOR_SIZE);
    }

    static long metadataSize(int pageCount) {
        return align(HEADER_SIZE + pageCount * DESCRIPTOR_SIZE, 64);
    }

    /** Bytes of the interleaved live/remote bitmaps covering {@code blocks} blocks. */
    static long bitmapBytes(long blocks) {
        return ((blocks + 63) >>> 6) << 4;
    }

    /** Address of the live word holding block {@code index}; its remote word is 8 bytes further. */
    static long liveWord(long bitmaps, long index) {
        return bitmaps + ((index >>> 6) << 4);
    }

    /** The alignment a page of {@code blockSize} blocks gives its start. */
    static long startAlignment(long blockSize) {
        return Math.min(Long.lowestOneBit(blockSize), 64L << 10);
    }

    static long reciprocal(long blockSize) {
        return ((1L << RECIPROCAL_SHIFT) + blockSize - 1) / blockSize;
    }

    static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
