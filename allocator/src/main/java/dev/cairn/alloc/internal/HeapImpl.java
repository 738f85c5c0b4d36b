package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.alloc.Heap;
import dev.cairn.alloc.internal.size.SizeClasses;
import dev.cairn.reclaim.QsbrThread;
import dev.cairn.segments.SegmentSpace;
import dev.cairn.segments.raw.Raw;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A heap: the pages one thread allocates from (or, for a shared heap, whichever virtual thread holds its lock). The
 * fast path ({@link #malloc}) is a direct-table load, a list pop and a counter update; everything else
 * ({@link #mallocGeneric}) is the slow path, which collects frees, finds or makes a page, runs periodic chores and
 * re-enters the same pop.
 *
 * <p>Ownership: every field and every page of this heap is touched only by the owning thread ({@link #ownerTid}),
 * except {@link #closed} (written by {@code Allocator.close}), {@link #hugeSegments} (a concurrent set, because a huge
 * block may be freed by any thread) and the retired pages waiting for their purge (below). Pages are in one
 * doubly-linked queue per bin (pages that may have free blocks, the first one is what the direct table points at) or in
 * the bin's full queue; the links are in the off-heap descriptors.
 *
 * <p>Retired pages and their purges, by the owner or, for an idle owner, by another thread: {@link RetiredPages},
 * whose lock the owner holds wherever its retired pages change.
 *
 * <p>Ending: a heap ends once ({@link #tryEnd}): released by its thread, reaped after its thread died, destroyed
 * with its arena, or closed with the allocator. Released and reaped heaps abandon their segments into the
 * allocator's {@link AbandonedPool}; a heap that needs a new page adopts from that pool before it maps a new segment
 * (arena heaps excepted: their close frees everything they hold, so they must never hold others' blocks).
 *
 * <p>Tags ({@code Allocator.heap(int)}): a thread may have one heap per tag. A heap's segments carry its tag
 * ({@code SEG_TAG}) for their whole life, abandoned ones too, and a heap adopts only segments of its own tag, so the
 * blocks of one tag stay in that tag's segments and a walk of the tag reads no other segment (CPython keeps its GC
 * objects apart from other objects this way, to walk only them). Arenas use tag 0.
 */
public final class HeapImpl implements Heap {

    /**
     * What a heap serves: one platform thread, one confined arena, any virtual thread holding {@link #lock}, or one
     * shared arena, whose allocating threads hold {@link #lock}.
     */
    enum Role {
        THREAD, ARENA, SHARED, SHARED_ARENA;

        /** An arena's heap: all its blocks go at its close, and it never adopts others' segments. */
        boolean arena() {
            return this == ARENA || this == SHARED_ARENA;
        }

        /** Used by whichever thread holds its lock: no owner thread. */
        boolean shared() {
            return this == SHARED || this == SHARED_ARENA;
        }
    }

    private final AllocatorImpl allocator;
    private final SegmentStore store;
    private final AbandonedPool pool;
    private final PagePool pagePool;
    private final boolean checked;
    private final int id;
    private final long ownerTid;
    /**
     * The thread whose delayed frees this heap batches: its owner for a tag-0 thread heap, the one kind of heap that
     * keeps batches; -1 (no thread) for every other heap. One compare for {@code freeDelayed}'s batch lookup.
     */
    final long batchTid;
    private final Role role;
    private final int tag;
    /** The owning thread, weakly: a dead thread's heap is found by the registry ({@code null} for shared heaps). */
    private final java.lang.ref.WeakReference<Thread> owner;
    /** Held around every use of a shared heap; {@code null} otherwise. */
    final HeapLock lock;
    private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    private final long emptyPage;
    private final long purgeDelayNanos;
    private final CloseGuard closeGuard;
    /** The allocator's segment geometry: {@link #checkedPop} bounds the bitmap word it writes to its segment. */
    private final long segmentMask;
    private final long segmentSize;
    /** Heap dumps: the creating thread's name; sampling: this heap's countdown, null when sampling is off. */
    private final String threadName = Thread.currentThread().getName();
    private final SiteSampler.Tap sampler;

    /** Page serving each 16-byte size step up to {@link SizeClasses#DIRECT_MAX}; the empty page when none. */
    private final long[] direct = new long[SizeClasses.DIRECT_SLOTS];
    private final long[] queue = new long[SizeClasses.BIN_COUNT];
    /** Last page of each queue: a page that gets room again joins at the back (see {@link #enqueueAtEnd}). */
    private final long[] queueTail = new long[SizeClasses.BIN_COUNT];
    private final long[] fullQueue = new long[SizeClasses.BIN_COUNT];
    /**
     * Oldest page of each full queue: full pages are pushed at the front, so the ones other threads have had the
     * longest to free into sit at the back, where {@link #reviveFullPage} starts.
     */
    private final long[] fullTail = new long[SizeClasses.BIN_COUNT];
    /**
     * Per bin, until when (nanoTime) full pages stay in the full queue instead of going to the page pool: set when
     * this heap's thread takes one back by freeing into it ({@link #reclaimedByFree}).
     */
    private final long[] keepFullUntil = new long[SizeClasses.BIN_COUNT];
    /**
     * See {@link #keepFullUntil}: 100 ms. With the purge delay (10 ms) sh6bench, whose threads free their own runs of
     * blocks, gave and took back a page every 8 ms per size class (12,800 round trips a run, each through the pool's
     * lock: 89 -> 122-136 ms with the pool on); with 100 ms, 1,500 and 100-105 ms, and larson's footprint unchanged
     * (docs/benchmarks.md, "The page pool, seventeenth session").
     */
    private static final long KEEP_FULL_NANOS = 100_000_000;
    /**
     * Whether this heap's thread has freed a block into one of its own full pages, or taken a page it gave back by
     * freeing into it. Until it has, it keeps no full page ({@link #moveToFull}): the {@link PagePool#FULL_RETAIN}
     * pages a bin keeps are for the owner's own frees, and a thread that has freed none may only be filling. Larson's
     * main thread fills every slot and then only joins; the two full pages per size class it kept were freed into
     * by the workers and never collected: 2.5 MiB beside 19.4 MiB of live data (docs/benchmarks.md, "Full pages kept only
     * by threads that free into them").
     */
    private boolean freesIntoFullPages;
    /**
     * Per bin, until when (nanoTime) the slow path does not look in the page pool: set when a look found no pooled
     * page with room. A look takes the pool's lock and reads pages other threads' frees write; xmalloc's producers
     * looked in vain on half their slow paths (5,000 of 10,000 looks per run, 7 us each with the lock contended).
     */
    private final long[] poolMissUntil = new long[SizeClasses.BIN_COUNT];
    /**
     * Per bin, when (nanoTime) this heap last looked for a page of the bin ({@link #findPage}). Read racily by other
     * threads' {@code PagePool.take}: a pooled page this thread frees into is left to it while it still needs pages
     * of that bin.
     */
    private final long[] binSlowPath = new long[SizeClasses.BIN_COUNT];
    /** See {@link #poolMissUntil}: 100 us (xmalloc, pool on: 37.7 -> 33.2 ms; 32.5 with the pool off). */
    private static final long POOL_MISS_BACKOFF_NANOS = 100_000;
    /** A thread heap of an allocator configured with the page pool ({@code AllocatorConfig.pagePool}). */
    private final boolean givesFullPages;
    /** Whether the allocator has the page pool on: off, no page is ever given, so none is taken back either. */
    private final boolean pagePoolOn;
    /** Normal segments this heap owns, per kind (slow path). */
    private final List<List<Long>> segments = new ArrayList<>();
    final Set<Long> hugeSegments = ConcurrentHashMap.newKeySet();
    /** Pages given back to their segment, still committed: reused first, purged after the delay. */
    private final RetiredPages retired;

    /**
     * Checked mode: free blocks a malloc took off their page's lists because their remote bit was set (another thread
     * still holds a claim on them: Pages, "Raced double frees"), as (page, block) pairs. Owner only; almost always
     * empty. Not on any list and not counted in {@code USED} until {@link #returnDeferred} puts them back.
     */
    private long[] deferred = new long[0];
    private int deferredPairs;

    volatile boolean closed;
    /** The thread's delayed frees not yet handed to QSBR (owner only; see DelayedBatch); null before the first. */
    DelayedBatch delayedBatch;
    /** The QSBR handle this heap's batches went to (null before the first): the slow path runs its due work. */
    QsbrThread delayedHandle;
    /** Batches handed over by {@code freeDelayed} (owner only): every few, it runs the due ones. */
    int delayedHandOvers;
    long slowPathCalls;
    /** When the owner's slow path last ran its timed duties (its own purges among them); read by other threads. */
    volatile long lastSlowPath = System.nanoTime();
    long pagesRetired;
    /** Blocks other threads freed into this heap's pages, counted when collected (no counter on the free path). */
    long remoteFreesCollected;
    /** When the slow path last collected the pages other threads freed into ({@link #collectRemoteFrees}). */
    private long lastRemoteCollect = System.nanoTime();

    /**
     * How often the slow path collects every page of this heap that other threads freed into. Not more often: the
     * producer of a producer/consumer pair (xmalloc) then took its pages from under the consumers' frees (its time
     * 46-51 ms without the collection, 51-60 with it every 10 ms, within this machine's noise but one-sided).
     */
    static final long REMOTE_COLLECT_INTERVAL_NANOS = 100_000_000;

    HeapImpl(AllocatorImpl allocator, int id, Role role, int tag, Thread thread) {
        this.allocator = allocator;
        this.tag = tag;
        this.store = allocator.store();
        this.pool = allocator.pool();
        this.pagePool = allocator.pagePool();
        this.checked = allocator.checked();
        this.id = id;
        this.role = role;
        this.ownerTid = role.shared() ? SHARED_OWNER : thread.threadId();
        this.owner = role.shared() ? null : new java.lang.ref.WeakReference<>(thread);
        this.lock = role.shared() ? new HeapLock() : null;
        this.batchTid = role == Role.THREAD && tag == 0 ? ownerTid : -1;
        this.emptyPage = allocator.emptyPage();
        this.closeGuard = allocator.closeGuard();
        this.segmentSize = store.segmentSize();
        this.segmentMask = -segmentSize;
        this.purgeDelayNanos = allocator.config().purgeDelay().toNanos();
        this.pagePoolOn = allocator.config().pagePool();
        this.givesFullPages = role == Role.THREAD && pagePoolOn;
        long now = System.nanoTime();
        java.util.Arrays.fill(keepFullUntil, now);
        java.util.Arrays.fill(poolMissUntil, now);
        this.retired = new RetiredPages(store, purgeDelayNanos);
        this.sampler = allocator.sites() == null ? null : allocator.sites().tap(id);
        java.util.Arrays.fill(direct, emptyPage);
        for (int k = 0; k < Kind.values().length; k++) {
            segments.add(new ArrayList<>());
        }
    }

    int id() {
        return id;
    }

    long ownerTid() {
        return ownerTid;
    }

    Role role() {
        return role;
    }

    /** The heap tag: which segments this heap may own and adopt ({@code SEG_TAG}). */
    int tag() {
        return tag;
    }

    /** The owning thread, or {@code null} when it is gone or the heap is shared. */
    Thread ownerThread() {
        return owner == null ? null : owner.get();
    }

    /** Whether the owning thread has ended (never for a shared heap). */
    boolean ownerDead() {
        if (owner == null) {
            return false;
        }
        Thread thread = owner.get();
        return thread == null || !thread.isAlive();
    }

    /** Claims the end of this heap; true for exactly one caller. */
    boolean tryEnd() {
        return ended.compareAndSet(false, true);
    }

    String threadName() {
        return threadName;
    }

    /** The first page of {@code bin}'s queue or full queue (heap dumps walk the queues from here). */
    long queueHead(int bin, boolean full) {
        return full ? fullQueue[bin] : queue[bin];
    }

    // ------------------------------------------------------------------------------------------------ fast path

    @Override
    public long malloc(long size) {
        long page;
        if (Long.compareUnsigned(size, SizeClasses.DIRECT_MAX) <= 0) {
            page = direct[(int) ((size + 15) >>> 4)];
        } else if (Long.compareUnsigned(size, SizeClasses.LARGE_MAX) <= 0) { // unsigned: mallocGeneric refuses < 0
            // Above the direct table: the bin's current page is the head of its queue (0 when it has none).
            page = queue[SizeClasses.binOf(size)];
            if (page == 0) {
                return mallocGeneric(size, 0);
            }
        } else {
            return mallocGeneric(size, 0);
        }
        if (!closed) {
            long block = Raw.getLong(page + FREE);
            if (block == 0) {
                // The owner's own frees refill the page without the slow path (the empty page's list is empty too).
                if (checked && Thread.currentThread().threadId() != ownerTid) {
                    checkSharedOwner(); // before the list is taken: a refused call must leave the page as it was
                }
                block = Raw.getLong(page + LOCAL_FREE);
                Raw.putLong(page + LOCAL_FREE, 0);
            }
            if (block != 0) {
                long next = Raw.getLong(block);
                if (checked && checkedPop(page, block, next)) {
                    return mallocAfterDeferring(page, block, next, size);
                }
                Raw.putLong(page + FREE, next);
                Raw.putLong(page + STATE, Raw.getLong(page + STATE) + 1); // USED + 1, as one long: see STATE
                return sampler == null ? block : sampler.allocated(block, size);
            }
        }
        return mallocGeneric(size, 0);
    }

    @Override
    public void free(long address) {
        allocator.free(address);
    }

    @Override
    public long calloc(long count, long size) {
        long bytes = AllocatorImpl.checkedProduct(count, size);
        long block = malloc(bytes);
        return bytes > SizeClasses.LARGE_MAX && allocator.hugeBlockZeroed(block) ? block : allocator.zero(block, bytes);
    }

    @Override
    public long mallocAligned(long size, long alignment) {
        AllocatorImpl.checkAlignment(alignment);
        return alignment <= SizeClasses.ALIGNMENT ? malloc(size) : mallocGeneric(size, alignment);
    }

    @Override
    public long realloc(long address, long newSize) {
        return allocator.reallocIn(this, address, newSize);
    }

    @Override
    public long usableSize(long address) {
        return allocator.usableSize(address);
    }

    @Override
    public void freeDelayed(long address) {
        allocator.freeDelayedIn(this, address);
    }

    @Override
    public void release() {
        allocator.checkOpen(); // as every call after close, releaseCurrentThread's included: the heap ended with it
        if (role == Role.SHARED) {
            return; // leased per call: nothing is held between calls
        }
        if (Thread.currentThread().threadId() != ownerTid) {
            throw Errors.wrongThread(ownerTid);
        }
        allocator.registry().release(this);
    }

    /**
     * Checked mode: the thread, and the popped block's successor, before anything changes; then marks the block live.
     * True, marking nothing, when its remote bit is set: the block must not be handed out (Pages, "Raced double
     * frees").
     */
    private boolean checkedPop(long page, long block, long next) {
        if (Thread.currentThread().threadId() != ownerTid) {
            checkSharedOwner();
        }
        long start = Raw.getLong(page + PAGE_START);
        long bitmaps = Raw.getLong(page + LIVE_MAP); // right after the blocks: bitmaps - start is BLOCKS_BYTES
        if (next != 0 && Long.compareUnsigned(next - start, bitmaps - start) >= 0) {
            throw refusedPop(page, block, next);
        }
        long index = ((block - start) * Raw.getLong(page + RECIPROCAL)) >>> RECIPROCAL_SHIFT;
        long word = liveWord(bitmaps, index);
        // Bounded to the segment as a checked free's proof is: a malloc racing close() may read this metadata as
        // zeros (CloseGuard), and a word derived from them would point anywhere.
        if (Long.compareUnsigned(word - (page & segmentMask) - HEADER_SIZE, segmentSize - HEADER_SIZE - 16) > 0) {
            throw refusedPop(page, block, next);
        }
        long bit = 1L << index;
        if ((Raw.getLong(word + 8) & bit) != 0) {
            return true;
        }
        Raw.putLong(word, Raw.getLong(word) | bit);
        return false;
    }

    /** The popped block is claimed by another thread: set aside (off the page's lists), then the slow path. */
    private long mallocAfterDeferring(long page, long block, long next, long size) {
        setAside(page, block, next);
        return mallocGeneric(size, 0);
    }

    /** Takes the popped {@code block} (its successor {@code next}) off the free list into {@link #deferred}. */
    private void setAside(long page, long block, long next) {
        Raw.putLong(page + FREE, next);
        if (2 * deferredPairs == deferred.length) {
            deferred = java.util.Arrays.copyOf(deferred, Math.max(8, 2 * deferred.length));
        }
        deferred[2 * deferredPairs] = page;
        deferred[2 * deferredPairs + 1] = block;
        deferredPairs++;
    }

    /**
     * Puts deferred blocks back on their page's local list: those whose remote bit is clear now (the other thread's
     * claim ended, or the owner collected its push and left it out), or every one with {@code all} (the heap gives
     * its segments up: a block still claimed is set aside again by whichever heap pops it next).
     */
    void returnDeferred(boolean all) {
        int kept = 0;
        for (int i = 0; i < deferredPairs; i++) {
            long page = deferred[2 * i];
            long block = deferred[2 * i + 1];
            long index = Pages.blockIndex(page, block);
            long remoteWord = liveWord(Raw.getLong(page + LIVE_MAP), index) + 8;
            if (all || (Raw.getLongVolatile(remoteWord) & (1L << index)) == 0) {
                Raw.putLong(block, Raw.getLong(page + LOCAL_FREE));
                Raw.putLong(page + LOCAL_FREE, block);
            } else {
                deferred[2 * kept] = page;
                deferred[2 * kept + 1] = block;
                kept++;
            }
        }
        deferredPairs = kept;
    }

    /** Forgets the deferred blocks of a page being given up: free blocks, re-carved when it is formatted again. */
    private void dropDeferred(long page) {
        int kept = 0;
        for (int i = 0; i < deferredPairs; i++) {
            if (deferred[2 * i] != page) {
                deferred[2 * kept] = deferred[2 * i];
                deferred[2 * kept + 1] = deferred[2 * i + 1];
                kept++;
            }
        }
        deferredPairs = kept;
    }

    /** The deferred blocks of {@code page} (validation, from a quiet heap). */
    void forEachDeferred(long page, java.util.function.LongConsumer action) {
        long[] pairs = deferred;
        for (int i = 0; i < Math.min(deferredPairs, pairs.length / 2); i++) {
            if (pairs[2 * i] == page) {
                action.accept(pairs[2 * i + 1]);
            }
        }
    }

    /** A pop the checks refused: the allocator closed under it, or the page's metadata is damaged. */
    private RuntimeException refusedPop(long page, long block, long next) {
        return closed ? Errors.closed() : Errors.corruptList(page, block, next);
    }

    /** A thread other than the owner: allowed only for a shared heap whose lock it holds. */
    private void checkSharedOwner() {
        if (lock == null || !lock.isHeldByCurrentThread()) {
            throw Errors.wrongThread(ownerTid);
        }
    }

    // ------------------------------------------------------------------------------------------------ slow path

    /** Everything the fast path does not: bad sizes, large and aligned sizes, empty pages, chores. */
    long mallocGeneric(long size, long alignment) {
        if (closed) {
            throw allocator.isClosed() ? Errors.closed() : Errors.heapEnded();
        }
        if (size < 0) {
            throw Errors.negativeSize(size);
        }
        if (checked && Thread.currentThread().threadId() != ownerTid) {
            checkSharedOwner();
        }
        slowPathCalls++;
        if (delayedBatch != null || delayedHandle != null) {
            allocator.delayedFreesOnSlowPath(this, slowPathCalls);
        }
        long now = System.nanoTime(); // one clock read for the slow path's timed duties
        if (!role.arena()) {
            // A thread that ended is found here too, not only when a thread starts or a heap maps a segment: the
            // thread a dying one started reuses its memory (and frees its blocks locally) without waiting for the
            // next thread to start (larson: every generation's successor is started before its predecessor ends).
            // (The registry's lock orders reaps with close(): no CloseGuard needed.)
            if (allocator.registry().maybeReapDead(now) && role == Role.THREAD) {
                allocator.delayedFreesOfDepartedThreads();
            }
        }
        // Past here the slow path follows pointers it reads from page metadata: close() waits for it (CloseGuard).
        // The delayed frees above stay outside: they may run the QSBR domain's deferred tasks, which are user code.
        int guard = closeGuard.enter();
        try {
            return mallocGuarded(size, alignment, now);
        } finally {
            closeGuard.exit(guard);
        }
    }

    private long mallocGuarded(long size, long alignment, long now) {
        if (deferredPairs != 0) {
            returnDeferred(false);
        }
        if (retired.mayHavePending()) {
            purgeExpired(false, now, now - lastSlowPath > purgeDelayNanos / 2);
        }
        store.purgeExpiredCache(now);
        if (pool.purgeDue(now)) {
            pool.purgeExpired(now);
        }
        lastSlowPath = now;
        if (role == Role.THREAD) {
            allocator.purgeIdleHeaps(now); // at most once per purge delay, allocator-wide
        }
        if (now - lastRemoteCollect >= REMOTE_COLLECT_INTERVAL_NANOS) {
            lastRemoteCollect = now;
            collectRemoteFrees();
        }
        int bin = binFor(size, alignment);
        long page;
        for (boolean retried = false; ; retried = true) {
            try {
                if (bin < 0) {
                    return hugeBlock(size, alignment);
                }
                page = findPage(bin);
                break;
            } catch (OutOfMemoryError e) { // the commit limit or the OS
                // once more after giving back what this heap holds free, unless hopeless or nothing came back
                if (retried || size > SegmentSpace.ADDRESS_SPACE_LIMIT / 2 || !collectForMemory()) {
                    // say which request it refused
                    throw e.getMessage() != null && e.getMessage().startsWith("Cairn: cannot allocate ") ? e
                            : Errors.outOfMemory(size, e);
                }
            }
        }
        long block = Raw.getLong(page + FREE);
        long next = Raw.getLong(block);
        if (checked && checkedPop(page, block, next)) {
            setAside(page, block, next);
            return mallocGuarded(size, alignment, now);
        }
        Raw.putLong(page + FREE, next);
        Raw.putLong(page + STATE, Raw.getLong(page + STATE) + 1); // USED + 1, as one long: see STATE
        return sampler == null ? block : sampler.allocated(block, size);
    }

    private long hugeBlock(long size, long alignment) {
        long huge = mallocHuge(size, Math.max(alignment, SizeClasses.ALIGNMENT));
        return sampler == null ? huge : sampler.allocated(huge, size);
    }

    /**
     * An allocation ran out of memory (the commit limit, or the OS): memory this heap holds free, retired pages
     * waiting out the purge delay and the page kept per size class, still counts as committed, so a thread that
     * has just freed everything was refused. Gives it back now, with the cache, as mimalloc's
     * {@code _mi_malloc_generic} collects and tries once more; whether anything came back, so worth a retry.
     */
    private boolean collectForMemory() {
        long before = store.space().stats().committedBytes();
        collect(true);
        store.trimCache();
        return store.space().stats().committedBytes() < before;
    }

    /** The bin serving {@code size} at {@code alignment} (0 or a power of two), or -1 for a huge block. */
    static int binFor(long size, long alignment) {
        long needed = Math.max(size, alignment);
        if (needed > SizeClasses.LARGE_MAX) {
            return -1;
        }
        int bin = SizeClasses.binOf(needed);
        if (alignment > SizeClasses.ALIGNMENT) {
            // A page aligns its start to the lowest set bit of the block size, so that bit must cover alignment.
            while (bin < SizeClasses.BIN_COUNT
                    && startAlignment(SizeClasses.blockSize(bin)) < alignment) {
                bin++;
            }
            if (bin == SizeClasses.BIN_COUNT) {
                return -1;
            }
        }
        return bin;
    }

    /** A page of {@code bin} with a free block at the head of its free list, made current for the bin. */
    private long findPage(int bin) {
        binSlowPath[bin] = lastSlowPath;
        long page = scanQueue(bin);
        // The page pool before the full pages kept: its oldest pages have had the longest to be freed into, and
        // the kept ones are the last to fill (revived with a free or two, each would send the malloc after next to
        // the slow path again: xmalloc's producer took one every 17 mallocs that way). Thread heaps only: the shared
        // heaps of virtual threads never give a page back, so a thread's pages flowed one way into them, and it
        // carved new ones on every resumption (larson-virtual, pool on: peak committed 19 -> 35 MB; 19 without).
        if (page == 0 && role == Role.THREAD && pagePool.mayHave(tag, bin) && lastSlowPath - poolMissUntil[bin] >= 0) {
            page = adoptPooledPage(bin);
            if (page == 0) {
                poolMissUntil[bin] = lastSlowPath + POOL_MISS_BACKOFF_NANOS; // lastSlowPath: this slow path's clock
            }
        }
        if (page == 0) {
            page = reviveFullPage(bin);
        }
        if (page == 0 && !role.arena() && pool.mayHave(kindOf(bin), tag) && adoptFromPool(bin, false)) {
            page = scanQueue(bin);
        }
        if (page == 0) {
            page = freshPage(bin);
            Pages.extend(page);
        }
        makeCurrent(bin, page);
        return page;
    }

    /** The first queued page of {@code bin} that has a free block after collecting; pages without move to full. */
    private long scanQueue(int bin) {
        long page = queue[bin];
        while (page != 0) {
            long next = Raw.getLong(page + NEXT);
            remoteFreesCollected += Pages.collect(page);
            if (Pages.hasFree(page) || Pages.extend(page)) {
                return page;
            }
            moveToFull(bin, page);
            page = next;
        }
        return 0;
    }

    /**
     * A page of {@code bin} from the page pool that other threads have freed into, collected and ready (the caller
     * makes it current); or 0. A page that turns out to have no room after all joins the full queue.
     */
    private long adoptPooledPage(int bin) {
        long page = pagePool.take(tag, bin, ownerTid, id);
        if (page == 0) {
            return 0;
        }
        remoteFreesCollected += Pages.collect(page);
        if (Pages.hasFree(page) || Pages.extend(page)) {
            return page;
        }
        pushFull(bin, page);
        return 0;
    }

    /**
     * This heap's thread freed a block into a page it gave to the page pool (or one whose heap ended), and the pool
     * has made this heap its owner (AllocatorImpl.reclaimOnFree): the page joins its queue, with the block (pushed
     * onto the cross-thread list before the page came back) collected at once.
     */
    void reclaimedByFree(long page) {
        int bin = Raw.getInt(page + BIN);
        // The block just freed (this thread's own, not counted as a remote free) and what others freed meanwhile.
        remoteFreesCollected += Math.max(0, Pages.collect(page) - 1);
        enqueueAtEnd(bin, page);
        // This thread still frees into its full pages of the bin: it keeps them for a while (a page given up and
        // taken back on every refill cost the pool's lock twice per page; larson: once per ten mallocs).
        keepFullUntil[bin] = System.nanoTime() + KEEP_FULL_NANOS;
        freesIntoFullPages = true;
    }

    /**
     * Takes back the pages of its own segments in the page pool that other threads have freed into since
     * ({@code all}: every one): collected, then retired when nothing in them is in use ({@code force}: also the one a
     * bin keeps), queued when they have room, else back in the full queue. Shared heaps too, though they never give a
     * page: a segment they adopted may have a page lent to a thread heap, which gives it back to the pool when it ends.
     */
    private void takeBackPooledPages(boolean all, boolean force) {
        if (!pagePoolOn) {
            return; // nothing is ever pooled: no lock taken on every collection
        }
        for (long page : pagePool.reclaimOwn(id, ownerTid, all)) {
            int bin = Raw.getInt(page + BIN);
            remoteFreesCollected += Pages.collect(page);
            if (Pages.hasRoom(page)) {
                enqueueAtEnd(bin, page);
                if (Raw.getInt(page + USED) == 0) {
                    retire(bin, page, force);
                }
            } else {
                pushFull(bin, page);
            }
        }
    }

    /** Whether {@code page} lies in a segment of this heap's (else it was adopted from the page pool). */
    private boolean ownSegment(long page) {
        return Raw.getInt((page & segmentMask) + SEG_HEAP_ID) == id;
    }

    private static Kind kindOf(int bin) {
        return Kind.forBlock(SizeClasses.blockSize(bin));
    }

    /**
     * Adopts one abandoned segment: one with room in {@code bin}, or with {@code anyRoom} one with an unused page.
     * Its pages join this heap's queues. Returns whether a segment was adopted.
     */
    private boolean adoptFromPool(int bin, boolean anyRoom) {
        Kind kind = kindOf(bin);
        while (true) {
            long segment = pool.take(kind, tag, bin, anyRoom, ownerTid);
            if (segment == 0) {
                return false;
            }
            if (pool.adopt(segment, id, ownerTid)) {
                enqueueAdopted(segment);
                segments.get(kind.ordinal()).add(segment);
                return true;
            }
            // it was empty and went back to the OS: look again
        }
    }

    /**
     * Queues every page in use of a freshly adopted segment: with room in its bin's queue, else in the full queue.
     * Its unused pages still awaiting their purge (AbandonedPool.settle) join this heap's purge queue, and its
     * recently retired pages, which freshPage reuses first: they are still committed and likely in cache.
     */
    private void enqueueAdopted(long segment) {
        retired.lock();
        try {
            enqueueAdoptedLocked(segment);
        } finally {
            retired.unlock();
        }
    }

    private void enqueueAdoptedLocked(long segment) {
        int end = Raw.getInt(segment + SEG_PAGE_END);
        for (int index = Raw.getInt(segment + SEG_FIRST_PAGE); index < end; index++) {
            long page = descriptor(segment, index);
            if (Raw.getInt(page + BLOCK_SIZE) == 0) {
                if ((Raw.getShort(page + FLAGS) & FLAG_PURGE_PENDING) != 0) {
                    retired.adopt(segment, page);
                }
                continue;
            }
            if (Raw.getLong(page + PAGE_OWNER) != ownerTid) {
                continue; // another heap's page, or a pooled one (PagePool): not part of the adoption
            }
            int bin = Raw.getInt(page + BIN);
            if (Raw.getLong(page + PREV) != 0 || queue[bin] == page || fullQueue[bin] == page) {
                continue; // adopted from the page pool before its segment: queued already
            }
            // With the pool, the segment's room is shared out page by page, not taken whole by this heap (the
            // segment's last heap ended or released): a page another thread frees into, and full pages beyond the
            // ones a bin keeps, go to the page pool as an ended heap's, where the first thread to free into one
            // takes it, or a heap that needs room.
            boolean room = Pages.hasRoom(page);
            if (poolsFullPages() && (freedIntoByAnother(page) || !room && keepsFullPages(bin))) {
                pagePool.give(page, 0, 0);
            } else if (room) {
                enqueueAtEnd(bin, page);
            } else {
                pushFull(bin, page);
            }
        }
    }

    /**
     * A full page of {@code bin} into which other threads have freed blocks since, back in the queue; or 0. Looks
     * from the oldest full page forward: those are the ones most likely to have been freed into (a producer/consumer
     * pair otherwise walks past every page the consumer has not reached yet).
     */
    private long reviveFullPage(int bin) {
        for (long page = fullTail[bin]; page != 0; page = Raw.getLong(page + PREV)) {
            if (Raw.getLongVolatile(page + XTHREAD_FREE) != 0) {
                remoteFreesCollected += Pages.collect(page);
                unfull(bin, page);
                return page;
            }
        }
        return 0;
    }

    private long freshPage(int bin) {
        retired.lock(); // the page taken may be a retired one another thread could be purging
        try {
            return freshPageLocked(bin);
        } finally {
            retired.unlock();
        }
    }

    private long freshPageLocked(int bin) {
        long blockSize = SizeClasses.blockSize(bin);
        Kind kind = Kind.forBlock(blockSize);
        long segment = 0;
        int index = -1;
        long reused = retired.takeNewest(kind);
        if (reused != 0) {
            segment = reused & -store.segmentSize();
            index = pageIndex(segment, reused);
        }
        for (Iterator<Long> it = segments.get(kind.ordinal()).iterator(); segment == 0 && it.hasNext(); ) {
            long candidate = it.next();
            index = unusedPage(candidate);
            if (index >= 0) {
                segment = candidate;
                break;
            }
        }
        if (segment == 0 && !role.arena()) {
            // About to map a new segment: first adopt a pooled one (this slow path looked for dead threads on entry).
            if (pool.mayHave(kind, tag) && adoptFromPool(bin, true)) {
                return freshPageAfterAdoption(bin, kind);
            }
        }
        if (segment == 0) {
            segment = store.newSegment(kind, id, ownerTid, role.arena(), tag);
            segments.get(kind.ordinal()).add(segment);
            index = unusedPage(segment);
        }
        long areaStart = segment + ((long) index << kind.pageShift);
        try {
            store.commit(segment, areaStart - segment, kind.pageSize());
        } catch (RuntimeException | OutOfMemoryError e) {
            // A segment mapped for this page holds no other: kept, no retire would ever give it back, and
            // collect(true) left it mapped (a shared heap of virtual threads held it until close).
            if (Raw.getInt(segment + SEG_USED_PAGES) == 0) {
                releaseSegment(segment);
            }
            throw e;
        }
        if (checked) {
            store.awaitGrace(Raw.getLong(descriptor(segment, index) + GRACE)); // see Pages, "Raced double frees"
        }
        long page = Pages.format(segment, index, bin, blockSize, kind.pageShift, checked, ownerTid, id);
        Raw.putInt(segment + SEG_USED_PAGES, Raw.getInt(segment + SEG_USED_PAGES) + 1);
        return page;
    }

    /** After adopting for {@code bin}: a queued page with room, else an unused page (the adopted segment has one). */
    private long freshPageAfterAdoption(int bin, Kind kind) {
        long page = scanQueue(bin);
        return page != 0 ? page : freshPage(bin);
    }

    private static int unusedPage(long segment) {
        int count = Raw.getInt(segment + SEG_PAGE_COUNT);
        int first = Raw.getInt(segment + SEG_FIRST_PAGE);
        if (Raw.getInt(segment + SEG_USED_PAGES) >= count - first) {
            return -1;
        }
        int hint = Raw.getInt(segment + SEG_NEXT_FREE_HINT);
        for (int n = 0; n < count - first; n++) {
            int index = first + (hint - first + n) % (count - first);
            if (Raw.getInt(descriptor(segment, index) + BLOCK_SIZE) == 0) {
                Raw.putInt(segment + SEG_NEXT_FREE_HINT, index); // the pages before it are in use; format moves past
                return index;
            }
        }
        return -1;
    }

    private long mallocHuge(long size, long alignment) {
        if (size > SegmentSpace.ADDRESS_SPACE_LIMIT / 2) { // the store's own limit, tested
            throw Errors.largerThanAddressSpace(size); // before rounding up (which may wrap): name the size asked for
        }
        long blockSize = align(Math.max(size, 1), SizeClasses.ALIGNMENT);
        long segment = store.newHugeSegment(blockSize, alignment, id, ownerTid, role.arena(), tag,
                checked);
        hugeSegments.add(segment);
        long page = descriptor(segment, 0);
        long block = Raw.getLong(page + PAGE_START);
        if (checked) {
            Pages.setLive(Raw.getLong(page + LIVE_MAP), block, Raw.getLong(page + RECIPROCAL), block);
        }
        return block;
    }

    // ------------------------------------------------------------------------------------------ free slow path

    /**
     * The owner freed a block and the page needs attention: it was in the full queue, or it has no block in use
     * any more. Called with {@code USED} already decremented.
     */
    void pageFreedSlow(long page) {
        int flags = Raw.getShort(page + FLAGS);
        int bin = Raw.getInt(page + BIN);
        if ((flags & FLAG_IN_FULL) != 0) {
            freesIntoFullPages = true;
            long current = queue[bin];
            if (current == 0 || !Pages.hasRoom(current)) {
                unfull(bin, page); // its one free block serves the next malloc, which would take the slow path anyway
            } else {
                // Not in the current page's place: with one free block it would send the malloc after next to the
                // slow path while the current page still has blocks. At the back of the queue (see enqueueAtEnd).
                leaveFull(bin, page);
                enqueueAtEnd(bin, page);
            }
        }
        if (Raw.getInt(page + USED) == 0 && Raw.getLongVolatile(page + XTHREAD_FREE) == 0) {
            retire(bin, page, false);
        }
    }

    /** Gives an empty page back to its segment, unless it is the only page of its bin and {@code force} is off. */
    private void retire(int bin, long page, boolean force) {
        if (!ownSegment(page)) {
            // Adopted from the page pool: its slot is its segment owner's to give back. Kept as a page with room,
            // or, forced (collect), given back to the pool, where that owner or its segment's holder takes it.
            if (force) {
                queueUnlink(bin, page);
                setDirect(bin, queue[bin] == 0 ? emptyPage : queue[bin]);
                pagePool.give(page, 0, 0);
            }
            return;
        }
        if (!force && queue[bin] == page && Raw.getLong(page + NEXT) == 0) {
            // Keep the bin's only page: a malloc/free ping-pong must not format a page each time. Until another
            // page joins the queue (pushFront clears this), emptying it again skips the slow path altogether.
            Raw.putShort(page + RETAIN, (short) 1);
            return;
        }
        if (checked && !Pages.mayUnformat(page)) {
            return; // another thread still holds a claim on a block: see Pages, "Raced double frees"
        }
        retired.lock();
        try {
            retireLocked(bin, page);
        } finally {
            retired.unlock();
        }
    }

    private void retireLocked(int bin, long page) {
        queueUnlink(bin, page);
        setDirect(bin, queue[bin] == 0 ? emptyPage : queue[bin]);
        long segment = page & -store.segmentSize(); // descriptors live in their segment's header
        if (deferredPairs != 0) {
            dropDeferred(page);
        }
        Pages.unformat(segment, page, store.graceStamp());
        pagesRetired++;
        int usedPages = Raw.getInt(segment + SEG_USED_PAGES) - 1;
        Raw.putInt(segment + SEG_USED_PAGES, usedPages);
        if (usedPages == 0) {
            releaseSegment(segment);
            return;
        }
        retired.retire(segment, page);
    }

    /** Gives back an empty segment; the caller holds the retired pages' lock (retire, or freshPage's failure). */
    private void releaseSegment(long segment) {
        Kind kind = Kind.values()[Raw.getInt(segment + SEG_KIND)];
        segments.get(kind.ordinal()).remove(Long.valueOf(segment));
        retired.dropSegment(segment, segment + store.segmentSize(), kind);
        store.release(segment);
    }

    /** Purges retired pages whose delay has passed (all of them when {@code now} is forced). */
    void purgeExpired(boolean all) {
        purgeExpired(all, System.nanoTime());
    }

    private void purgeExpired(boolean all, long now) {
        purgeExpired(all, now, false);
    }

    /**
     * {@link #purgeExpired}; with {@code back}, the owner's first slow path after more than half a purge delay without
     * one, every retired page not postponed before gets a whole purge delay from now first. A thread that was away
     * (descheduled on a host with more runnable threads than cores, blocked, or busy on fast paths) comes back to
     * allocate, and its first slow path would otherwise purge the very pages its next ones reuse, faulting them in
     * again (batch and sh6bench with 8 threads on 2 cores: 100,000-500,000 faults a repetition, 5-15x mimalloc's
     * time; docs/benchmarks.md, "Purges made due by a thread's absence"). Half a delay, not one: a page retired a
     * little before the thread was descheduled is due soon after it is back (batch, 8 threads: 16,900-26,000 faults a
     * repetition with one delay, 13,800-15,700 with half). Once only per retirement, so a thread whose slow paths are
     * always further apart still purges: a page is purged at most two delays after it was retired, plus the gap to
     * the slow path that finds it due.
     */
    private void purgeExpired(boolean all, long now, boolean back) {
        retired.lock();
        try {
            if (back) {
                retired.postponeOnce(now + purgeDelayNanos);
            }
            retired.purgeDue(all, now, Integer.MAX_VALUE);
        } finally {
            retired.unlock();
        }
    }

    /**
     * {@link #purgeExpired} from a thread other than the owner ({@code Allocator.collect}), if the owner is not
     * changing its retired pages right now; returns the pages purged, 0 when the owner is busy with them (its own
     * slow path purges them) or the heap ended.
     */
    int purgeForAnotherThread(boolean all) {
        return purgeForAnotherThread(all, System.nanoTime(), Integer.MAX_VALUE);
    }

    /**
     * The same for a heap whose owner has run no slow path for {@link #IDLE_PURGE_DELAYS} purge delays (it is idle, or
     * busy on fast paths only), at most {@code limit} pages: the owner of a heap that wakes up waits for at most that
     * many purges.
     */
    int purgeIfIdle(long now, int limit) {
        return now - lastSlowPath > IDLE_PURGE_DELAYS * purgeDelayNanos ? purgeForAnotherThread(false, now, limit) : 0;
    }

    /**
     * How many purge delays without a slow path make an owner idle to other threads' purges. Not one: on a host with
     * more runnable threads than cores a thread waits about a purge delay between its time slices, and purged there
     * its pages came back as faults on its next slice (see {@link #purgeExpired(boolean, long, boolean)}); an owner truly idle keeps its
     * retired pages this much longer (100 ms with the default delay). mimalloc never purges another thread's pages.
     */
    static final int IDLE_PURGE_DELAYS = 10;

    private int purgeForAnotherThread(boolean all, long now, int limit) {
        if (role != Role.THREAD || !retired.tryLock()) {
            return 0;
        }
        try {
            return closed ? 0 : retired.purgeDue(all, now, limit);
        } finally {
            retired.unlock();
        }
    }

    /**
     * Returns what is free now: collects every page (with {@code force}, also full pages), retires empty pages
     * (with {@code force}, also the one kept per bin) and purges retired memory at once.
     */
    void collect(boolean force) {
        if (deferredPairs != 0) {
            returnDeferred(false);
        }
        for (int bin = 0; bin < SizeClasses.BIN_COUNT; bin++) {
            if (force) {
                for (long page = fullQueue[bin], next; page != 0; page = next) {
                    next = Raw.getLong(page + NEXT);
                    remoteFreesCollected += Pages.collect(page);
                    if (Pages.hasFree(page) || Raw.getInt(page + USED) < Raw.getInt(page + CAPACITY)) {
                        unfull(bin, page);
                    }
                }
            }
            for (long page = queue[bin], next; page != 0; page = next) {
                next = Raw.getLong(page + NEXT);
                remoteFreesCollected += Pages.collect(page);
                if (Raw.getInt(page + USED) == 0) {
                    retire(bin, page, force);
                }
            }
        }
        if (!role.arena()) {
            takeBackPooledPages(force, force);
        }
        purgeExpired(true);
    }

    /**
     * Collects every page that other threads freed into, from the slow path every
     * {@link #REMOTE_COLLECT_INTERVAL_NANOS}: a full page with room again rejoins its bin's queue at the back, and a
     * page left with no block in use is retired (purged after the purge delay). Without it, a page whose
     * blocks were all freed by other threads stayed committed until this heap needed a page of its bin and found it:
     * a full page never, while the queue had room (larson, once a worker adopts a segment the main thread filled for
     * both workers: the other worker frees its half of the blocks remotely and allocates from pages of its own, and
     * the drained pages stayed committed beside the new ones). mimalloc's generic slow path collects its heap
     * periodically for the same reason.
     */
    private void collectRemoteFrees() {
        if (!role.arena()) {
            takeBackPooledPages(false, false);
        }
        for (int bin = 0; bin < SizeClasses.BIN_COUNT; bin++) {
            for (long page = fullQueue[bin], next; page != 0; page = next) {
                next = Raw.getLong(page + NEXT);
                if (Raw.getLongVolatile(page + XTHREAD_FREE) == 0) {
                    continue;
                }
                remoteFreesCollected += Pages.collect(page);
                if (Raw.getInt(page + USED) == 0) {
                    unfull(bin, page); // into the queue, which retire takes it from
                    retire(bin, page, false);
                } else if (Pages.hasRoom(page)) {
                    leaveFull(bin, page);
                    enqueueAtEnd(bin, page);
                }
            }
            for (long page = queue[bin], next; page != 0; page = next) {
                next = Raw.getLong(page + NEXT);
                if (Raw.getLongVolatile(page + XTHREAD_FREE) != 0) {
                    remoteFreesCollected += Pages.collect(page);
                    if (Raw.getInt(page + USED) == 0) {
                        retire(bin, page, false);
                    }
                }
            }
        }
    }

    /** Gives back every segment of this heap (an arena's close: all its blocks die at once). */
    void destroy() {
        retired.lock(); // a purge by another thread finishes first: the segments go now
        try {
            destroyLocked();
        } finally {
            retired.unlock();
        }
    }

    private void destroyLocked() {
        closed = true;
        deferredPairs = 0;
        for (List<Long> list : segments) {
            for (long segment : list) {
                store.release(segment);
            }
            list.clear();
        }
        for (long segment : hugeSegments) {
            if (hugeSegments.remove(segment)) {
                store.release(segment);
            }
        }
        retired.clear();
        java.util.Arrays.fill(direct, emptyPage);
        java.util.Arrays.fill(queue, 0);
        java.util.Arrays.fill(queueTail, 0);
        java.util.Arrays.fill(fullQueue, 0);
        java.util.Arrays.fill(fullTail, 0);
    }

    /**
     * Gives up every segment of this heap, nothing lost: segments with blocks in use go to the abandoned pool,
     * empty ones back to the OS, huge blocks to the allocator's orphan set (released by whichever thread frees
     * them). Runs on the owner thread ({@code release}) or, after the owner died, on the thread that reaped it;
     * either way nobody else uses this heap's fields meanwhile ({@link #tryEnd} was won).
     */
    void abandonAll() {
        retired.lock(); // a purge by another thread finishes first: the segments change hands now
        try {
            abandonAllLocked();
        } finally {
            retired.unlock();
        }
    }

    private void abandonAllLocked() {
        closed = true;
        returnDeferred(true);
        giveForeignPages();
        // Retired pages keep their PURGE_PENDING flag and deadline: the pool purges them once it has passed if their
        // segment stays pooled, or the segment's release purges them with it (see AbandonedPool.settle).
        retired.clear();
        for (List<Long> list : segments) {
            for (long segment : list) {
                pool.abandon(segment);
            }
            list.clear();
        }
        for (long segment : hugeSegments) {
            allocator.orphanHuge(this, segment);
        }
        java.util.Arrays.fill(direct, emptyPage);
        java.util.Arrays.fill(queue, 0);
        java.util.Arrays.fill(queueTail, 0);
        java.util.Arrays.fill(fullQueue, 0);
        java.util.Arrays.fill(fullTail, 0);
    }

    /** Gives the pages it adopted from the page pool back to it: their segments are others' (the heap ends). */
    private void giveForeignPages() {
        for (long[] heads : new long[][] {queue, fullQueue}) {
            for (int bin = 0; bin < SizeClasses.BIN_COUNT; bin++) {
                for (long page = heads[bin], next; page != 0; page = next) {
                    next = Raw.getLong(page + NEXT);
                    if (!ownSegment(page)) {
                        if (heads == queue) {
                            queueUnlink(bin, page);
                        } else {
                            leaveFull(bin, page);
                        }
                        pagePool.give(page, 0, 0);
                    }
                }
            }
        }
    }

    /** Normal segments this heap owns now (validation, dumps). */
    List<Long> ownedSegments() {
        List<Long> all = new ArrayList<>();
        for (List<Long> list : segments) {
            all.addAll(list);
        }
        return all;
    }

    // ------------------------------------------------------------------------------------------------ queues

    private void makeCurrent(int bin, long page) {
        if (queue[bin] != page) {
            queueUnlink(bin, page);
            queuePushFront(bin, page);
        }
        // Also when the page is at the head already: moveToFull leaves the next page there with the direct table
        // still on the full one, and every malloc of the bin would take the slow path until something reset it.
        setDirect(bin, page);
    }

    private void moveToFull(int bin, long page) {
        queueUnlink(bin, page);
        if (poolsFullPages() && lastSlowPath - keepFullUntil[bin] > 0
                && (!freesIntoFullPages || keepsFullPages(bin))) {
            // PagePool.FULL_RETAIN (2) full pages of the bin kept already, or none kept while this thread has never
            // freed into a full page of its own: this one goes to the page pool, where a heap that needs room adopts
            // it once other threads have freed into it (this one would only take it back through a slow path; an
            // idle thread never would).
            pagePool.give(page, id, ownerTid);
            // Never left in the direct table: the page's lists are its next owner's from now on.
            setDirect(bin, queue[bin] == 0 ? emptyPage : queue[bin]);
        } else {
            pushFull(bin, page);
            if (queue[bin] == 0) {
                setDirect(bin, emptyPage);
            }
        }
    }

    /**
     * Whether the last remote free into the page (since it was formatted) came from another thread than this heap's:
     * a hint of who will free into it next.
     */
    private boolean freedIntoByAnother(long page) {
        int freer = Raw.getInt(page + LAST_FREER);
        return freer != 0 && freer != (int) ownerTid;
    }

    /** Whether this heap looked for a page of {@code bin} since {@code since} (nanoTime; a racy hint). */
    boolean neededPagesSince(int bin, long since) {
        return !closed && binSlowPath[bin] - since > 0;
    }

    /** Whether the bin's full queue holds {@link PagePool#FULL_RETAIN} pages already. */
    private boolean keepsFullPages(int bin) {
        long page = fullQueue[bin];
        for (int n = 1; n < PagePool.FULL_RETAIN && page != 0; n++) {
            page = Raw.getLong(page + NEXT);
        }
        return page != 0;
    }

    /**
     * Whether this heap gives full pages beyond the ones it keeps to the page pool: thread heaps, and not while a
     * block is set aside (deferred lists name pages; they are almost always empty).
     */
    private boolean poolsFullPages() {
        return givesFullPages && deferredPairs == 0;
    }

    /** A full page with free blocks again, made the bin's current page. */
    private void unfull(int bin, long page) {
        leaveFull(bin, page);
        queuePushFront(bin, page);
        setDirect(bin, page);
    }

    private void leaveFull(int bin, long page) {
        if (fullTail[bin] == page) {
            fullTail[bin] = Raw.getLong(page + PREV);
        }
        unlink(fullQueue, bin, page);
        Raw.putShort(page + FLAGS, (short) (Raw.getShort(page + FLAGS) & ~FLAG_IN_FULL));
    }

    /**
     * Queues a page with room at the back of the bin's queue; the page becomes current itself when the bin has none.
     * At the back, not right behind the current page: a full page rejoins on its first free, and taken next it would
     * serve one malloc and send the one after to the slow path; at the back it gathers the frees that land on it while
     * the pages ahead serve (mimalloc queues it at the end too). Larson: a slow path every 4 mallocs behind the
     * current page, every 11 at the back (docs/benchmarks.md).
     */
    private void enqueueAtEnd(int bin, long page) {
        long head = queue[bin];
        if (head == 0) {
            queuePushFront(bin, page);
            setDirect(bin, page);
            return;
        }
        long tail = queueTail[bin];
        Raw.putLong(page + PREV, tail);
        Raw.putLong(page + NEXT, 0);
        Raw.putLong(tail + NEXT, page);
        queueTail[bin] = page;
        Raw.putShort(head + RETAIN, (short) 0); // neither is the bin's only page: see retire
        Raw.putShort(page + RETAIN, (short) 0);
    }

    private void queuePushFront(int bin, long page) {
        pushFront(queue, bin, page);
        if (Raw.getLong(page + NEXT) == 0) {
            queueTail[bin] = page;
        }
    }

    /** {@link #unlink} from the bin's queue, keeping its tail. */
    private void queueUnlink(int bin, long page) {
        if (queueTail[bin] == page) {
            queueTail[bin] = Raw.getLong(page + PREV);
        }
        unlink(queue, bin, page);
    }

    /** Pushes {@code page} at the front of the bin's full queue and flags it {@code IN_FULL}. */
    private void pushFull(int bin, long page) {
        Raw.putShort(page + FLAGS, (short) (Raw.getShort(page + FLAGS) | FLAG_IN_FULL));
        pushFront(fullQueue, bin, page);
        if (Raw.getLong(page + NEXT) == 0) {
            fullTail[bin] = page;
        }
    }

    private static void pushFront(long[] heads, int bin, long page) {
        long head = heads[bin];
        Raw.putLong(page + PREV, 0);
        Raw.putLong(page + NEXT, head);
        if (head != 0) {
            Raw.putLong(head + PREV, page);
            Raw.putShort(head + RETAIN, (short) 0); // no longer the only page: empty again means retire again
            Raw.putShort(page + RETAIN, (short) 0); // nor is this one (it may have been retained before it filled)
        }
        heads[bin] = page;
    }

    /** Removes {@code page} from the queue {@code heads[bin]} if it is in it (no-op for a detached page). */
    private static void unlink(long[] heads, int bin, long page) {
        long prev = Raw.getLong(page + PREV);
        long next = Raw.getLong(page + NEXT);
        if (prev != 0) {
            Raw.putLong(prev + NEXT, next);
        } else if (heads[bin] == page) {
            heads[bin] = next;
        } else {
            return;
        }
        if (next != 0) {
            Raw.putLong(next + PREV, prev);
        }
        Raw.putLong(page + NEXT, 0);
        Raw.putLong(page + PREV, 0);
    }

    /** Points every direct slot served by {@code bin} at {@code page}. */
    private void setDirect(int bin, long page) {
        long blockSize = SizeClasses.blockSize(bin);
        if (blockSize > SizeClasses.DIRECT_MAX) {
            return;
        }
        long lower = bin == 0 ? 0 : SizeClasses.blockSize(bin - 1) + 1;
        for (int slot = SizeClasses.directSlot(lower); slot <= SizeClasses.directSlot(blockSize); slot++) {
            direct[slot] = page;
        }
    }

    /** Validation: the bin whose queue ({@code full}: full queue) does not end at its recorded tail, or -1. */
    int tailMismatch(boolean full) {
        long[] heads = full ? fullQueue : queue;
        long[] tails = full ? fullTail : queueTail;
        for (int bin = 0; bin < SizeClasses.BIN_COUNT; bin++) {
            long last = 0;
            for (long page = heads[bin]; page != 0; page = Raw.getLong(page + NEXT)) {
                last = page;
            }
            if (last != tails[bin]) {
                return bin;
            }
        }
        return -1;
    }

    /** Visits the pages of this heap's queues (validation). */
    void forEachQueuedPage(java.util.function.BiConsumer<Integer, Long> action, boolean full) {
        long[] heads = full ? fullQueue : queue;
        for (int bin = 0; bin < SizeClasses.BIN_COUNT; bin++) {
            for (long page = heads[bin]; page != 0; page = Raw.getLong(page + NEXT)) {
                action.accept(bin, page);
            }
        }
    }
}
