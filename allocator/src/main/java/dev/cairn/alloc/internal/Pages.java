package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.segments.raw.Raw;

/**
 * Page mechanics on off-heap descriptors: formatting a page for a size class, carving more blocks into its free
 * list, collecting frees, and the live/remote bitmaps of checked mode.
 *
 * <p>The three lists (mimalloc's design): {@code FREE} is where allocation pops; owner frees push on
 * {@code LOCAL_FREE}, so {@code FREE} runs dry after a bounded number of allocations and the slow path gets a
 * regular turn; other threads push on {@code XTHREAD_FREE} with one CAS. The owner takes the whole remote list
 * with one atomic swap ({@link #collect}). Only the owner touches {@code FREE}, {@code LOCAL_FREE}, {@code USED},
 * {@code CAPACITY} and the live bitmap, with plain accesses.
 *
 * <p>Checked mode keeps two bitmaps per page, interleaved word by word. {@code live}: written by the owner only
 * (set on allocation, cleared on local free and when a remote free is collected). {@code remote}: a remote free
 * sets its bit with an atomic OR before pushing the block (a second remote free of the same block sees the bit and
 * is refused); the owner clears it with an atomic AND when it collects the block. {@code freeDelayed} sets it too,
 * while the block waits for its readers (pending: live, on no list).
 *
 * <p>Raced double frees (docs/design/allocator.md, section 5). The owner's check and clear are plain; after the
 * clear it fences and reads the remote bit again, and a claimant (remote bit) reads the live bit again after its OR:
 * Dekker's pattern, so of the owner's free and another thread's claim on the same block at most one stands (the
 * owner that sees a claim puts the live bit back and refuses; the claimant that sees the block freed withdraws; when
 * both see each other both are refused and the block stays allocated). Both pushing the block would write its one
 * link word twice and cut one of the two lists. What the owner still resolves: a claim it meets later (the owner's
 * end of a pending free, and {@link #splice}, leave out a block whose live bit is already clear); malloc sets aside
 * a popped block whose remote bit is set ({@code HeapImpl.deferred}) until the claim ends; {@link #mayUnformat} keeps
 * a page with a claim from being given up; and a page given up is formatted again only after a grace
 * ({@code GRACE}), as the claimant's writes happen inside its check in flight.
 */
final class Pages {

    /** Blocks carved per extension: about 4 KiB worth, at least 4 (bounds the memory first touched). */
    private static final long EXTEND_BYTES = 4096;

    private Pages() {
    }

    /**
     * Formats page {@code index} of {@code segment} for blocks of {@code bin}, owned by heap {@code heapId} on thread
     * {@code ownerTid}; returns its descriptor.
     */
    static long format(long segment, int index, int bin, long blockSize, int pageShift, boolean checked,
            long ownerTid, int heapId) {
        long page = descriptor(segment, index);
        if (index >= Raw.getInt(segment + SEG_PAGE_END)) {
            Raw.putInt(segment + SEG_PAGE_END, index + 1);
        }
        if (index == Raw.getInt(segment + SEG_NEXT_FREE_HINT)) {
            Raw.putInt(segment + SEG_NEXT_FREE_HINT, index + 1);
        }
        long areaStart = segment + ((long) index << pageShift);
        long areaEnd = areaStart + (1L << pageShift);
        long metaEnd = segment + metadataSize(Raw.getInt(segment + SEG_PAGE_COUNT));
        long start = align(Math.max(areaStart, metaEnd), startAlignment(blockSize));
        long room = areaEnd - start;
        long reserved = room / blockSize;
        while (checked && reserved * blockSize + bitmapBytes(reserved) > room) {
            reserved--;
        }
        Raw.putLong(page + FREE, 0);
        Raw.putLong(page + LOCAL_FREE, 0);
        Raw.putLongRelease(page + XTHREAD_FREE, 0);
        Raw.putLong(page + PAGE_START, start);
        Raw.putLong(page + RECIPROCAL, reciprocal(blockSize));
        Raw.putLong(page + NEXT, 0);
        Raw.putLong(page + PREV, 0);
        Raw.putLong(page + PURGE_DEADLINE, 0);
        Raw.putInt(page + BLOCK_SIZE, (int) blockSize);
        Raw.putInt(page + USED, 0);
        Raw.putInt(page + CAPACITY, 0);
        Raw.putInt(page + RESERVED, (int) reserved);
        Raw.putInt(page + BIN, bin);
        Raw.putShort(page + FLAGS, (short) 0);
        Raw.putShort(page + RETAIN, (short) 0);
        Raw.putInt(page + PAGE_HEAP, heapId);
        Raw.putLong(page + PAGE_OWNER, ownerTid);
        Raw.putInt(page + LAST_FREER, 0); // a hint about this format's blocks only
        if (checked) {
            long maps = start + reserved * blockSize;
            Raw.fill(maps, bitmapBytes(reserved), (byte) 0);
            Raw.putLong(page + LIVE_MAP, maps);
        } else {
            Raw.putLong(page + LIVE_MAP, 0);
        }
        // Published last: a checked free reads BLOCKS_BYTES first and finds 0 until the page is complete.
        Raw.putLongRelease(page + BLOCKS_BYTES, reserved * blockSize);
        return page;
    }

    /**
     * Whether an empty page may be given up: not while a block of it has its remote bit set (checked mode), which
     * says another thread holds a claim on the block (a remote free that lost a race with the owner's own free, a
     * pending delayed free) and will still write the page. Fences first: the owner's plain clears of live bits before
     * the scan; partner, the re-read of the live bit after the OR in {@code AllocatorImpl.free} and {@code
     * markPending} (Dekker's pattern: either this scan sees the bit, or that re-read sees the block freed).
     */
    static boolean mayUnformat(long page) {
        long bitmaps = Raw.getLong(page + LIVE_MAP);
        if (bitmaps == 0) {
            return true;
        }
        java.lang.invoke.VarHandle.fullFence();
        int capacity = Raw.getInt(page + CAPACITY);
        for (int index = 0; index < capacity; index += 64) {
            if (Raw.getLongVolatile(liveWord(bitmaps, index) + 8) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Marks a page of {@code segment} unused: every later checked free into it is refused, and the segment's page
     * search will start no later than it. {@code grace}: the stamp its next format waits for (0 in unchecked mode).
     */
    static void unformat(long segment, long page, long grace) {
        int index = pageIndex(segment, page);
        if (index < Raw.getInt(segment + SEG_NEXT_FREE_HINT)) {
            Raw.putInt(segment + SEG_NEXT_FREE_HINT, index);
        }
        Raw.putLong(page + GRACE, grace);
        Raw.putLongRelease(page + BLOCKS_BYTES, 0);
        Raw.putInt(page + BLOCK_SIZE, 0);
        Raw.putInt(page + BIN, -1);
        Raw.putInt(page + USED, 0);
        Raw.putShort(page + FLAGS, (short) 0);
    }

    /**
     * Carves new blocks into the (empty) free list: as many as the page has carved so far, at least ~4 KiB and 4
     * blocks, so a page being filled takes a slow path per doubling (5 for a 64 KiB page, not 16) while a page
     * that is barely used touches no more memory than twice what it used. False when the page is fully carved.
     */
    static boolean extend(long page) {
        int capacity = Raw.getInt(page + CAPACITY);
        int reserved = Raw.getInt(page + RESERVED);
        if (capacity >= reserved) {
            return false;
        }
        long blockSize = Raw.getInt(page + BLOCK_SIZE);
        int count = (int) Math.min(reserved - capacity, Math.max(Math.max(4, capacity), EXTEND_BYTES / blockSize));
        long first = Raw.getLong(page + PAGE_START) + capacity * blockSize;
        long block = first;
        for (int i = 1; i < count; i++) {
            long next = block + blockSize;
            Raw.putLong(block, next);
            block = next;
        }
        Raw.putLong(block, Raw.getLong(page + FREE));
        Raw.putLong(page + FREE, first);
        Raw.putInt(page + CAPACITY, capacity + count);
        return true;
    }

    /**
     * Takes the remote list with one swap (partner: the CAS in {@code AllocatorImpl.freeRemote}) and moves it, with
     * the local list, onto the free list. Returns the number of remote blocks collected. Owned pages only (their
     * list is never tagged).
     */
    static int collect(long page) {
        int collected = 0;
        if (Raw.getLongVolatile(page + XTHREAD_FREE) != 0) {
            collected = splice(page, Raw.getAndSetLong(page + XTHREAD_FREE, 0));
        }
        moveLocalToFree(page);
        return collected;
    }

    /**
     * Collects a page of a segment held exclusively while it changes hands (abandonment, sweep, adoption): the swap
     * leaves {@link SegmentLayout#ABANDONED_TAG} behind when {@code tagged}, and clears it otherwise, in the same
     * atomic step that takes the list, so each remote free is either taken here or sees the new tag.
     */
    static int collectExclusive(long page, boolean tagged) {
        long head = Raw.getAndSetLong(page + XTHREAD_FREE, tagged ? ABANDONED_TAG : 0) & ~ABANDONED_TAG;
        int collected = head == 0 ? 0 : splice(page, head);
        moveLocalToFree(page);
        return collected;
    }

    /**
     * Puts a taken remote list in front of the local list: clears its bits, subtracts it from {@code USED}. In
     * checked mode a block whose live bit is already clear is left out (see "Raced double frees" above).
     */
    private static int splice(long page, long head) {
        int collected = 0;
        long liveMap = Raw.getLong(page + LIVE_MAP);
        RemoteBitClears clears = liveMap == 0 ? null : new RemoteBitClears();
        long first = 0;
        long tail = 0;
        boolean leftOut = false; // since tail: its link must skip them
        for (long block = head; block != 0; ) {
            long next = Raw.getLong(block);
            if (clears == null || clears.clear(page, liveMap, block)) {
                collected++;
                if (tail == 0) {
                    first = block;
                } else if (leftOut) {
                    Raw.putLong(tail, block);
                }
                tail = block;
                leftOut = false;
            } else {
                leftOut = true;
            }
            block = next;
        }
        if (clears != null) {
            clears.flush(); // before any of the blocks can be allocated again
        }
        if (tail != 0) {
            Raw.putLong(tail, Raw.getLong(page + LOCAL_FREE));
            Raw.putLong(page + LOCAL_FREE, first);
            Raw.putInt(page + USED, Raw.getInt(page + USED) - collected);
        }
        return collected;
    }

    private static void moveLocalToFree(long page) {
        long local = Raw.getLong(page + LOCAL_FREE);
        if (local != 0 && Raw.getLong(page + FREE) == 0) {
            Raw.putLong(page + FREE, local);
            Raw.putLong(page + LOCAL_FREE, 0);
        }
    }

    /** Whether the page can hand out a block without a new page: a list is not empty or it can be extended. */
    static boolean hasRoom(long page) {
        return Raw.getLong(page + FREE) != 0 || Raw.getLong(page + LOCAL_FREE) != 0
                || Raw.getInt(page + CAPACITY) < Raw.getInt(page + RESERVED);
    }

    /** Appends the local list to the free list even when the free list is not empty (O(free list)). */
    static void collectAll(long page) {
        collect(page);
        long local = Raw.getLong(page + LOCAL_FREE);
        if (local == 0) {
            return;
        }
        long free = Raw.getLong(page + FREE);
        long tail = free;
        while (Raw.getLong(tail) != 0) {
            tail = Raw.getLong(tail);
        }
        Raw.putLong(tail, local);
        Raw.putLong(page + LOCAL_FREE, 0);
    }

    static boolean hasFree(long page) {
        return Raw.getLong(page + FREE) != 0;
    }

    // ---- checked-mode bitmaps ----

    static long blockIndex(long page, long block) {
        return ((block - Raw.getLong(page + PAGE_START)) * Raw.getLong(page + RECIPROCAL)) >>> RECIPROCAL_SHIFT;
    }

    /** Marks a block handed out; {@code start} is the page start (owner only, plain). */
    static void setLive(long bitmaps, long start, long reciprocal, long block) {
        long index = ((block - start) * reciprocal) >>> RECIPROCAL_SHIFT;
        long word = liveWord(bitmaps, index);
        Raw.putLong(word, Raw.getLong(word) | (1L << index));
    }
}
