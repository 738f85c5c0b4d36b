package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.AllocatorStats;
import dev.cairn.alloc.BlockVisitor;
import dev.cairn.alloc.Heap;
import dev.cairn.alloc.internal.size.SizeClasses;
import dev.cairn.radix.AddressMap;
import dev.cairn.reclaim.Qsbr;
import dev.cairn.reclaim.QsbrThread;
import dev.cairn.segments.SegmentSpace;
import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The allocator domain: its segment store, its heaps, and the free paths (which start from an address, not from a
 * heap). The malloc fast path is {@link HeapImpl#malloc}; the free fast path is {@link #free(long)} (checked) and
 * {@link #freeUnchecked}, which end in {@link #freeLocal} (the block's segment belongs to the calling thread) or
 * {@link #freeRemote} (one CAS onto the page's cross-thread list).
 *
 * <p>Checked free proves the address before touching it: the allocator's own {@link AddressMap} says it lies in a
 * live segment of this allocator; the header cookie matches; the offset from the page start is below the page's
 * published block bytes and an exact multiple of the block size; the block's live bit is set and its remote bit
 * clear. Only then does it write. The map entry also names the segment's owner ({@link MapEntry}): when that is the
 * calling thread, no other thread can give the segment back during the call and the proof reads it as it is; any
 * other free proves the address as a check in flight, so that no segment it reads is unmapped under it (see
 * SegmentStore).
 */
public final class AllocatorImpl implements Allocator {

    private final AllocatorConfig config;
    private final boolean checked;
    private final int freeFill;
    private final SegmentStore store;
    private final AddressMap map;
    private final long cookie;
    private final long segmentMask;
    /** Log2 of the segment size: splits the map's entries ({@link MapEntry}). */
    private final int shift;
    private final long segmentSize;
    /** Descriptors a segment can have (small pages): a page index a proof computes must be below it. */
    private final long maxPages;
    private final Arena metaArena = Arena.ofShared();
    /**
     * The scope of the segments {@link #allocate(long, long)} hands out, closed first thing in {@link #close()}: a
     * segment kept past the close then throws on access instead of reading memory that is unmapped next.
     */
    private final Arena segmentScope = Arena.ofShared();
    private final long emptyPage;
    private final AbandonedPool pool;
    private final PagePool pagePool;
    private final HeapRegistry registry;
    /**
     * Huge segments whose heap has ended: released by whichever thread frees their block. A huge segment is in
     * exactly one of its heap's set or this one; whoever removes it from a set releases it.
     */
    private final java.util.Set<Long> orphanHuge = ConcurrentHashMap.newKeySet();
    private final DelayedFrees delayed;
    /** Huge blocks freed by another thread than their owner's: no list collects them, so they are counted here. */
    private final java.util.concurrent.atomic.LongAdder remoteHugeFrees = new java.util.concurrent.atomic.LongAdder();
    /** Blocks in delayed-free batches handed to QSBR and not yet run (see DelayedBatch). */
    private final AtomicLong batchedPending = new AtomicLong();
    /** Arenas not closed yet: their segments must stop being accessible before {@link #close()} unmaps them. */
    private final java.util.Set<CairnArena> openArenas = ConcurrentHashMap.newKeySet();
    /**
     * Scopes of arenas destroyed because their thread ended with them open. Such a scope never closes (it is
     * confined to a dead thread), so {@link #free(MemorySegment)} cannot tell from {@code isAlive()} that the
     * segment's memory may be another block's by now, and looks here. Weak: an entry goes with the arena's last
     * segment.
     */
    private final java.util.Set<MemorySegment.Scope> reapedArenaScopes =
            java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));
    /** Whether {@link #reapedArenaScopes} was ever written: until then free(MemorySegment) takes no lock for it. */
    private volatile boolean anyArenaReaped;
    private volatile boolean closed;
    /** What close() waits for before it retires the segments; see CloseGuard. */
    private final CloseGuard closeGuard = new CloseGuard();
    // ---- heap dumps, sampling, JMX (HeapDumper, SiteSampler, AllocatorManagement) ----
    private final long domainId = AllocatorManagement.nextDomainId();

    /** Null when sampling is off: the malloc and free paths then pay one null test. */
    private final SiteSampler sites;
    private final AllocatorManagement management;

    public AllocatorImpl(AllocatorConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.checked = config.checked();
        this.freeFill = config.freeFill();
        this.cookie = ThreadLocalRandom.current().nextLong() | 1;
        this.store = new SegmentStore(SegmentSpace.create(config.segmentConfig()), cookie, config.commitLimit(),
                config.purgeDelay().toNanos(), checked);
        this.map = store.map();
        this.segmentMask = -store.segmentSize();
        this.shift = store.shift();
        this.segmentSize = store.segmentSize();
        this.maxPages = store.segmentSize() >>> Kind.SMALL.pageShift;
        // The page every empty direct-table slot points at: its free list is always empty.
        this.emptyPage = metaArena.allocate(DESCRIPTOR_SIZE, 64).address();
        this.pagePool = new PagePool(store.segmentSize(), new PagePool.BusyHeap() {
            @Override
            public boolean ranSince(int heapId, long since) {
                return busyHeap(heapId, since);
            }

            @Override
            public boolean needsPagesSince(int tid, int bin, long since) {
                HeapImpl heap = registry.batchHeap(tid);
                return heap != null && heap.neededPagesSince(bin, since);
            }
        });
        this.pool = new AbandonedPool(store, pagePool, config.purgeDelay().toNanos(), this::mayAdopt);
        this.registry = new HeapRegistry(this);
        this.delayed = new DelayedFrees(this);
        this.sites = config.sampleRate() > 0 ? new SiteSampler(config.sampleRate()) : null;
        this.management = AllocatorManagement.register(this);
    }

    // ---------------------------------------------------------------------------------------------- accessors

    SegmentStore store() {
        return store;
    }

    CloseGuard closeGuard() {
        return closeGuard;
    }

    boolean checked() {
        return checked;
    }

    long emptyPage() {
        return emptyPage;
    }

    long cookie() {
        return cookie;
    }

    /**
     * Whether thread {@code tid} may adopt a segment it frees into (the pool keeps such a segment for it a while):
     * unless it has a heap here that has never allocated, as a thread that only frees never adopts. A thread with no
     * heap yet may be one that took over a dead thread's blocks and frees them before its first malloc.
     */
    private boolean mayAdopt(long tid) {
        HeapImpl heap = registry.batchHeap(tid);
        return heap == null || heap.slowPathCalls != 0; // read racily: a hint
    }

    /** Whether heap {@code id} is live and ran its slow path since {@code since} (PagePool.take). */
    private boolean busyHeap(int id, long since) {
        HeapImpl heap = registry.byId(id);
        return heap != null && !heap.closed && heap.lastSlowPath - since > 0;
    }

    PagePool pagePool() {
        return pagePool;
    }

    AbandonedPool pool() {
        return pool;
    }

    HeapRegistry registry() {
        return registry;
    }

    Iterable<HeapImpl> heaps() {
        return registry.all();
    }

    HeapImpl heapById(int id) {
        return registry.byId(id);
    }

    boolean isClosed() {
        return closed;
    }

    /** Cross-thread frees collected so far: by live heaps, by ended ones, and while segments changed hands. */
    long remoteFrees() {
        return registry.remoteFreesCollected() + pool.collectedRemoteFrees() + remoteHugeFrees.sum();
    }

    SiteSampler sites() {
        return sites;
    }

    @Override
    public long domainId() {
        return domainId;
    }

    @Override
    public void dumpHeap(java.nio.file.Path path, dev.cairn.alloc.DumpOptions options) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        checkOpen();
        HeapDumper.write(this, path, options);
    }

    @Override
    public AllocatorConfig config() {
        return config;
    }

    // ---------------------------------------------------------------------------------------------- heaps

    @Override
    public Heap heap() {
        checkOpen(); // like every call after close, though the heap itself would refuse each use too
        return registry.currentHeap();
    }

    @Override
    public Heap heap(int tag) {
        checkOpen();
        return registry.currentHeap(checkTag(tag));
    }

    private static int checkTag(int tag) {
        if (tag < 0 || tag >= HEAP_TAGS) {
            throw new IllegalArgumentException("heap tag " + tag + ": not between 0 and " + (HEAP_TAGS - 1));
        }
        return tag;
    }

    @Override
    public void releaseCurrentThread() {
        checkOpen();
        java.util.List<HeapImpl> heaps = registry.threadHeaps();
        for (HeapImpl heap : heaps) {
            handOverDelayed(heap); // into the QSBR queue, which the unregistration hands to the domain
        }
        delayed.releaseCurrentThread();
        for (HeapImpl heap : heaps) {
            registry.release(heap);
        }
    }

    /** When a slow path last purged for idle heaps ({@link #purgeIdleHeaps}); claimed by CAS: one thread at a time. */
    private final java.util.concurrent.atomic.AtomicLong lastIdlePurge = new java.util.concurrent.atomic.AtomicLong();
    /** Pages purged per idle heap per pass: a heap whose owner wakes up meanwhile waits for at most these. */
    private static final int IDLE_PURGE_PAGES = 16;

    /**
     * From a thread heap's slow path (inside its close guard): once per purge delay for the whole allocator, purges up
     * to {@link #IDLE_PURGE_PAGES} due retired pages of each thread heap whose owner has run no slow path for
     * {@code HeapImpl.IDLE_PURGE_DELAYS} purge delays (RetiredPages, "Purges by another thread"). Without it an idle
     * thread's retired pages stayed committed until a {@code collect()}.
     */
    void purgeIdleHeaps(long now) {
        long last = lastIdlePurge.get();
        long interval = Math.max(config.purgeDelay().toNanos(), 1_000_000);
        if (now - last < interval || !lastIdlePurge.compareAndSet(last, now)) {
            return;
        }
        for (HeapImpl heap : registry.allHeaps()) {
            heap.purgeIfIdle(now, IDLE_PURGE_PAGES); // the caller's own heap just ran its slow path: not idle
        }
    }

    /** Moves a huge segment of an ending heap to the orphan set, unless a concurrent free already released it. */
    void orphanHuge(HeapImpl heap, long segment) {
        orphanHuge.add(segment);
        if (!heap.hugeSegments.remove(segment)) {
            orphanHuge.remove(segment); // the freer took it from the heap's set and releases it
        }
    }

    /** Whether the huge segment at {@code base} outlived its heap: no heap owns it (dumps and walks say heap 0). */
    boolean isOrphanHuge(long base) {
        return orphanHuge.contains(base);
    }

    /** An arena's thread ended with it open, and its heap is about to be destroyed: see reapedArenaScopes. */
    void arenaReaped(HeapImpl heap) {
        for (CairnArena arena : openArenas) {
            if (arena.heap() == heap) {
                reapedArenaScopes.add(arena.scope());
                anyArenaReaped = true;
            }
        }
    }

    /** A heap ended and its id may be reused: its sampled blocks that live on belong to no heap now. */
    void heapIdEnded(int heapId) {
        if (sites != null) {
            sites.orphanHeap(heapId);
        }
    }

    /** An arena's heap was destroyed: its blocks died without a free. */
    void heapDestroyed(HeapImpl heap) {
        if (heap.role().arena()) {
            openArenas.removeIf(arena -> arena.heap() == heap); // an arena reaped after its thread ended open
        }
        if (sites != null) {
            sites.forgetHeap(heap.id());
        }
    }

    // ---------------------------------------------------------------------------------------------- allocation

    @Override
    public long malloc(long size) {
        HeapImpl heap = registry.threadHeap();
        return heap != null ? heap.malloc(size) : registry.currentHeap().malloc(size);
    }

    @Override
    public long calloc(long count, long size) {
        return heap().calloc(count, size);
    }

    @Override
    public long mallocAligned(long size, long alignment) {
        return heap().mallocAligned(size, alignment);
    }

    @Override
    public long realloc(long address, long newSize) {
        return heap().realloc(address, newSize);
    }

    long reallocIn(HeapImpl heap, long address, long newSize) {
        if (newSize < 0) {
            throw Errors.negativeSize(newSize);
        }
        if (address == 0) {
            return heap.malloc(newSize);
        }
        long usable = usableSize("realloc", address);
        if (newSize <= usable && newSize >= usable / 2) {
            return address; // fits, and does not waste more than half the block
        }
        long moved = heap.malloc(newSize);
        Raw.copy(address, moved, Math.min(usable, newSize));
        free(address);
        return moved;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0) {
            throw Errors.negativeSize(byteSize);
        }
        long address = mallocAligned(byteSize, byteAlignment);
        SegmentStore.expose(pageOf(address) & segmentMask); // descriptors sit in their segment's header
        return Raw.segment(address, byteSize, segmentScope);
    }

    /**
     * Whether the huge block just allocated at {@code address} reads as zeros already (see
     * {@link SegmentLayout#SEG_ZEROED}): then {@code calloc} leaves its pages untouched, and they stay out of RAM
     * until written, as with calloc of fresh memory in C.
     */
    boolean hugeBlockZeroed(long address) {
        long segment = address & segmentMask; // a huge block starts in its segment's first segmentSize bytes
        return Raw.getInt(segment + SEG_KIND) == SegmentLayout.Kind.HUGE.ordinal()
                && Raw.getInt(segment + SEG_ZEROED) != 0;
    }

    /**
     * Zeroes a new arena block, as the JDK's arenas zero theirs, except a huge block that reads as zeros already
     * (see {@link #hugeBlockZeroed}, which needs the block in its segment's first segmentSize bytes: an alignment
     * below the segment size).
     */
    long zeroNew(long address, long size, long alignment) {
        if (size > SizeClasses.LARGE_MAX && alignment < segmentSize && hugeBlockZeroed(address)) {
            return address;
        }
        return zero(address, size);
    }

    long zero(long address, long size) {
        // The map, not the mask: a block aligned to the segment size starts past its segment's first segmentSize bytes.
        if (size >= ZERO_BY_PURGE_MIN && store.zeroByPurge(store.segmentOf(address), address, size)) {
            return address;
        }
        Raw.fill(address, size, (byte) 0);
        return address;
    }

    /**
     * A huge block this big is zeroed by giving its whole pages back ({@code MADV_DONTNEED}: they read as zeros and
     * stay out of RAM until written) rather than by writing them: a freed huge segment is reused before its delayed
     * purge, and calloc must not make the memory it zeroes resident.
     */
    private static final long ZERO_BY_PURGE_MIN = 1L << 20;

    static long checkedProduct(long count, long size) {
        if (count < 0 || size < 0 || Math.multiplyHigh(count, size) != 0 || count * size < 0) {
            throw Errors.overflow(count, size);
        }
        return count * size;
    }

    static void checkAlignment(long alignment) {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw Errors.badAlignment(alignment);
        }
    }

    // ---------------------------------------------------------------------------------------------- free

    /**
     * The free fast path. Checked mode's proof is written out here, in the entry method, for two reasons. Each
     * descriptor field is read once. And the method's bytecode is larger than C2's {@code FreqInlineSize} (325
     * bytes), so C2 compiles it once, on its own, and callers call it: inlined into a caller it would compete
     * with the caller's own code for one compilation unit's node budget ({@code NodeCountInliningCutoff}, about 30
     * FFM accesses in all), and the accesses past the budget became calls, which cost more than one call here
     * (measured in docs/benchmarks.md, "C2's inlining budget"). Keep it above that size when editing.
     */
    @Override
    public void free(long address) {
        if (address == 0) {
            return;
        }
        if (closed) {
            throw Errors.closed();
        }
        if (!checked) {
            freeUnchecked(address);
        } else {
            long me = Thread.currentThread().threadId();
            long entry = map.lookup(address);
            int check = OWNED;
            HeapImpl held = null;
            long entryOwner = MapEntry.owner(entry, shift);
            if (entryOwner != me) {
                // A virtual threads' heap's segment: whoever holds the heap's lock owns it (see MapEntry), so a free
                // that gets the lock, and finds the entry unchanged under it, frees as the owner.
                held = lockSharedHeap(entryOwner);
                if (held != null && map.lookup(address) != entry) {
                    held.lock.unlock();
                    held = null;
                }
                if (held == null) {
                    // Not the caller's own segment (another thread's, abandoned, huge, stale, foreign, a busy shared
                    // heap's): another thread may unmap it while the proof reads it, so the proof is a check in
                    // flight, and the address is looked up again after the mark (see SegmentStore).
                    check = store.enterCheck();
                    entry = map.lookup(address);
                }
            }
            long page;
            boolean local;
            long pageOwner = 0;
            int sweep = NO_SWEEP;
            try {
                long segment = MapEntry.base(entry, shift);
                if (entry == AddressMap.NOT_OURS
                        || Raw.getLongAcquire(segment + SEG_COOKIE) != (segment ^ cookie)) {
                    throw refusal(Errors.notOurs("free", address));
                }
                long pageIndex = (address - segment) >>> Raw.getInt(segment + SEG_PAGE_SHIFT);
                if (pageIndex >= maxPages) { // a torn read of a segment being reused: see inSegment
                    throw refusal(Errors.notOurs("free", address));
                }
                page = descriptor(segment, (int) pageIndex);
                long offset = address - Raw.getLong(page + PAGE_START);
                if (Long.compareUnsigned(offset, Raw.getLongAcquire(page + BLOCKS_BYTES)) >= 0) { // see Pages.format
                    throw refusal(Errors.notBlockStart("free", address));
                }
                long index = (offset * Raw.getLong(page + RECIPROCAL)) >>> RECIPROCAL_SHIFT;
                if (index * Raw.getInt(page + BLOCK_SIZE) != offset) {
                    throw refusal(Errors.notBlockStart("free", address));
                }
                long word = liveWord(Raw.getLong(page + LIVE_MAP), index);
                if (!inSegment(segment, word)) {
                    throw refusal(Errors.notLive("free", address));
                }
                long bit = 1L << index;
                long live = Raw.getLong(word);
                if ((live & bit) == 0) {
                    throw refusal(Errors.notLive("free", address));
                }
                long remoteWord = word + 8;
                // The page's owner, which is not always the segment's (PagePool).
                pageOwner = Raw.getLong(page + PAGE_OWNER);
                // A held shared heap's page is the holder's; a page of its segment that another heap took from the
                // page pool is not (PAGE_HEAP tells), and is freed remotely like any other.
                local = pageOwner == me || held != null && pageOwner == SHARED_OWNER
                        && Raw.getInt(page + PAGE_HEAP) == held.id();
                if (local) {
                    if (check != OWNED && Raw.getInt(page + BIN) < 0) {
                        // A huge block: claimed with the atomic a remote free takes, so of an owner's and another
                        // thread's racing frees exactly one wins (plain bits cannot order them, and the loser would
                        // release the segment twice). The remote bit stays set: the segment goes back whole.
                        if ((Raw.getAndBitwiseOrLong(remoteWord, bit) & bit) != 0) {
                            throw refusal(Errors.remotelyFreed("free", address));
                        }
                        Raw.putLong(word, live & ~bit);
                    } else {
                        if ((Raw.getLong(remoteWord) & bit) != 0) {
                            throw refusal(Errors.remotelyFreed("free", address));
                        }
                        Raw.putLong(word, live & ~bit);
                        // Dekker's pattern with a claimant's OR and its second read of the live bit (a remote free,
                        // a pending mark): either this read sees the claim, or the claimant sees the block freed and
                        // withdraws. Seen, the claim stands (or both are refused): the block stays as it was, and
                        // is never pushed on two lists at once (Pages, "Raced double frees").
                        java.lang.invoke.VarHandle.fullFence();
                        if ((Raw.getLongVolatile(remoteWord) & bit) != 0) {
                            Raw.putLong(word, live);
                            throw refusal(Errors.remotelyFreed("free", address));
                        }
                    }
                    if (held != null) {
                        freeLocal(page, address); // as the heap's owner, before the finally lets its lock go
                    }
                } else {
                    if ((Raw.getAndBitwiseOrLong(remoteWord, bit) & bit) != 0) { // partner: RemoteBitClears
                        throw refusal(Errors.remotelyFreed("free", address));
                    }
                    if ((Raw.getLong(word) & bit) == 0) {
                        // The owner freed it since the proof read its live bit (a raced double free): take the bit
                        // back. Read after the OR, which fences: partner, the fence before Pages.mayUnformat's scan.
                        Raw.getAndBitwiseAndLong(remoteWord, ~bit);
                        throw refusal(Errors.notLive("free", address));
                    }
                    // Inside the mark: a page or segment that takes a new layout waits for it (a grace), so a push
                    // that lost a race with the owner's free of the same block never lands in one.
                    sweep = Raw.getInt(page + BIN) >= 0 ? pushRemote(page, address, me) : RELEASE_HUGE;
                    if (sweep == NO_SWEEP && (pageOwner == pooledBy(me) || pageOwner == PAGE_POOLED)) {
                        sweep = RECLAIM_PAGE;
                    }
                }
            } finally {
                // Before what may give a segment back, which would wait for this mark: the owner's free, a huge
                // block's release, an abandoned segment's sweep.
                if (check != OWNED) {
                    store.exitCheck(check);
                } else if (held != null) {
                    held.lock.unlock(); // after its free above, or its refusal
                }
            }
            if (local && held == null) {
                freeLocal(page, address);
            } else if (sweep == RELEASE_HUGE) {
                releaseHugeRemotely(page); // the winner of the OR above: no other thread gives this segment back
            } else if (sweep != NO_SWEEP) {
                sweepAbandoned(page, sweep);
            }
        }
        if (sites != null) {
            sites.onFree(address); // after the free: a refused free keeps its sample
        }
    }

    @Override
    public void free(MemorySegment segment) {
        if (!segment.isNative()) { // its address() is an offset into a Java array, which free would take for 0 or worse
            throw new IllegalArgumentException("free(" + segment + "): a heap segment, not a block of this allocator");
        }
        if (!segment.scope().isAlive()) { // its arena closed: the address may be another block's by now
            checkOpen(); // or this allocator closed, which ends its segments too
            throw Errors.staleSegment(segment.address());
        }
        if (anyArenaReaped && reapedArenaScopes.contains(segment.scope())) {
            throw Errors.reapedArenaSegment(segment.address());
        }
        free(segment.address());
    }

    // ---------------------------------------------------------------------------------------------- delayed free

    @Override
    public void freeDelayed(long address) {
        freeDelayed(address, null);
    }

    /** {@code Heap.freeDelayed}: {@link #freeDelayed} whose batch is the held heap's when it may be (see batchHeap). */
    void freeDelayedIn(HeapImpl heap, long address) {
        freeDelayed(address, heap);
    }

    private void freeDelayed(long address, HeapImpl held) {
        if (address == 0) {
            return;
        }
        checkOpen();
        long page;
        HeapImpl heap;
        if (checked) {
            int check = store.enterCheck(); // the proof reads a segment that may be going away; the mark pins it
            try {
                page = checkedPage("freeDelayed", address);
                heap = batchHeap(page, address, held);
                if (heap != null) {
                    markPending(page, address);
                }
            } finally {
                store.exitCheck(check);
            }
        } else {
            page = pageOf(address);
            heap = batchHeap(page, address, held);
        }
        if (heap == null) { // a virtual thread, or a thread that never allocated: one QSBR item, marked by its hook
            delayed.defer(address);
            return;
        }
        addToBatch(heap, page, address);
    }

    /** Appends a proven (and, checked, marked) block to the heap's batch; hands full batches to QSBR. */
    private void addToBatch(HeapImpl heap, long page, long address) {
        DelayedBatch batch = heap.delayedBatch;
        if (batch == null) {
            batch = new DelayedBatch(delayed.link());
            heap.delayedBatch = batch;
            delayed.handOverAtNextQuiescentPoint(heap, batch);
        }
        if (batch.add(address, blockSizeOf(page))) {
            QsbrThread handle = handOverDelayed(heap);
            heap.delayedHandle = handle;
            // Run what is due every PROCESS_EVERY batches: the queue's own threshold counts items, and an item is now
            // a batch, so left to itself it would hold 256 batches of freed memory out of reuse (and out of cache);
            // every batch would cost an advance and a scan of the readers' slots, lines the readers keep writing.
            if (++heap.delayedHandOvers % DelayedBatch.PROCESS_EVERY == 0) {
                delayed.advanceAndProcess(handle);
            }
        }
    }

    /**
     * The heap whose batch takes a delayed free of the block on {@code page}, or null for a per-address QSBR item.
     * The batch lives in the calling thread's live tag-0 thread heap: {@code held} when it is that heap (the caller's
     * {@code Heap}), else the registry's table by thread id, else the heap the segment header names when this thread
     * owns the block, else the thread-local lookup. Arena blocks are refused.
     */
    private HeapImpl batchHeap(long page, long address, HeapImpl held) {
        long segment = page & segmentMask;
        refuseArenaBlock(segment, address);
        long me = Thread.currentThread().threadId();
        HeapImpl heap = held != null && held.batchTid == me ? held : registry.batchHeap(me);
        if (heap != null && !heap.closed) {
            return heap;
        }
        heap = Raw.getLong(page + PAGE_OWNER) == me ? registry.byId(Raw.getInt(page + PAGE_HEAP)) : null;
        // Batches live in the thread's tag-0 heap, which collect() hands over. The id names another heap when it
        // is a huge block's whose heap ended (ids are reused: see HeapRegistry), or the block's tag is not 0.
        if (heap == null || heap.batchTid != me) {
            heap = registry.threadHeap();
        }
        assert heap == null || heap.role() == HeapImpl.Role.THREAD;
        return heap;
    }

    /**
     * An arena's blocks go back when the arena closes, which does not wait for readers: a delayed free of one
     * would free it again after its memory was gone.
     */
    private static void refuseArenaBlock(long segment, long address) {
        if (Raw.getInt(segment + SEG_ARENA) != 0) {
            throw Errors.arenaBlock("freeDelayed", address);
        }
    }

    /** The calling thread's registered QSBR handle for delayed frees, or null. */
    QsbrThread currentDelayedHandle() {
        return delayed.current();
    }

    /**
     * Hands the heap's filling batch of delayed frees to the calling thread's QSBR queue (see DelayedBatch): on the
     * heap's own thread, or on the thread that reaps the heap of one that ended. Returns the handle used, or null
     * when there was nothing to hand over.
     */
    QsbrThread handOverDelayed(HeapImpl heap) {
        DelayedBatch batch = heap.delayedBatch;
        if (batch == null || batch.count() == 0) {
            return null;
        }
        heap.delayedBatch = null;
        batchedPending.addAndGet(batch.count()); // before the batch can run, so the count never goes negative
        return delayed.deferBatch(batch);
    }

    /**
     * A handed-over batch whose goal is reached: every block is freed for real (see DelayedBatch), as
     * {@link #releasePending} frees one, except that the owner's pending marks are cleared with one atomic AND per
     * bitmap word rather than per block. A block whose mark is still set waits on its page's local list only inside
     * this loop, where nothing allocates; the marks are cleared before a free that may empty its page (and hand the
     * page's bitmaps back), and at the end.
     */
    void releasePendingBatch(long[] addresses, int count) {
        int guard = closeGuard.tryEnter();
        if (guard < 0) {
            batchedPending.addAndGet(-count);
            return; // the allocator closed: its memory went back, these blocks with it
        }
        RemoteBitClears clears = checked ? new RemoteBitClears() : null;
        try {
            long me = Thread.currentThread().threadId();
            for (int i = 0; i < count; i++) {
                long address = addresses[i];
                forgetSample(address);
                long page = pageOf(address);
                if (Raw.getLong(page + PAGE_OWNER) != me) {
                    freeRemote(page, address, me); // checked: the remote bit is already set, as a remote free sets it
                    continue;
                }
                if (clears != null) {
                    boolean wasLive = clears.clear(page, Raw.getLong(page + LIVE_MAP), address);
                    long state = Raw.getLong(page + STATE); // USED | FLAGS << 32 | RETAIN << 48
                    // before a free that may take the slow path (or none: see below)
                    if (!wasLive || (int) state <= 1 || (short) (state >>> 32) != 0) {
                        clears.flush();
                    }
                    if (!wasLive) {
                        continue; // its owner freed it too, racing the mark: it is on a local list (see Pages)
                    }
                }
                freeLocal(page, address);
            }
        } finally {
            if (clears != null) {
                clears.flush();
            }
            batchedPending.addAndGet(-count);
            closeGuard.exit(guard);
        }
    }

    /**
     * From the heap's malloc slow path, every {@link DelayedFrees#SLOW_PATH_INTERVAL}th call: hand the filling batch
     * over, advance, and run the thread's due delayed frees, so a thread that allocates while it frees with delay
     * gets its memory back without waiting for a full batch or a {@code collect()}.
     */
    void delayedFreesOnSlowPath(HeapImpl heap, long slowPathCalls) {
        if ((slowPathCalls & (DelayedFrees.SLOW_PATH_INTERVAL - 1)) != 0) {
            return;
        }
        QsbrThread handed = handOverDelayed(heap);
        if (handed != null) {
            heap.delayedHandle = handed;
        }
        QsbrThread handle = heap.delayedHandle;
        if (handle != null && handle.isRegistered()) {
            delayed.advanceAndProcess(handle);
        } else {
            heap.delayedHandle = null; // the thread unregistered it; its next hand-over registers again
        }
    }

    /**
     * From a thread heap's malloc slow path, as often as dead heaps are reaped (at most once per
     * {@link HeapRegistry#REAP_INTERVAL_NANOS} over all threads): the delayed frees that threads left in the QSBR
     * domain when they released their heap or ended run here once due. The domain runs such orphaned work only
     * from a defer or a quiescent point with work of its own, collect(), synchronize() or close(); readers that
     * only allocate have none of those, so the blocks of a writer that left stayed pending for ever.
     */
    void delayedFreesOfDepartedThreads() {
        delayed.domain().reapDeadThreads();
    }

    /**
     * Checked mode, the QSBR domain's {@code sizeOf} (see DelayedFrees): proves the block as a free does, marks it
     * pending (remote bit set, on no list) and returns its size. Throws, leaving the block as it was, otherwise.
     */
    long markPending(long address) {
        checkOpen(); // a qsbrThread() handle outlives close(); its defer(address) must not read unmapped segments
        int check = store.enterCheck(); // see SegmentStore: the proof reads a segment that may be going away
        try {
            long page = checkedPage("freeDelayed", address);
            refuseArenaBlock(page & segmentMask, address);
            markPending(page, address);
            return blockSizeOf(page);
        } finally {
            store.exitCheck(check);
        }
    }

    /** Marks a proven block pending: live and not yet freed, its remote bit set with an atomic OR. */
    private void markPending(long page, long address) {
        long index = Pages.blockIndex(page, address);
        long word = proofWord(page, address);
        long bit = 1L << index;
        if (word == 0 || (Raw.getLong(word) & bit) == 0) {
            throw refusal(Errors.notLive("freeDelayed", address));
        }
        if ((Raw.getAndBitwiseOrLong(word + 8, bit) & bit) != 0) {
            throw refusal(Errors.remotelyFreed("freeDelayed", address));
        }
        if ((Raw.getLong(word) & bit) == 0) { // the owner freed it meanwhile: as in free's remote branch
            Raw.getAndBitwiseAndLong(word + 8, ~bit);
            throw refusal(Errors.notLive("freeDelayed", address));
        }
    }

    /** The real free of a pending block, on whichever thread runs the due deferred work (see DelayedFrees). */
    void releasePending(long address) {
        int guard = closeGuard.tryEnter();
        if (guard < 0) {
            return; // the allocator closed: its memory went back, this block with it
        }
        try {
            releasePendingGuarded(address);
        } finally {
            closeGuard.exit(guard);
        }
    }

    private void releasePendingGuarded(long address) {
        forgetSample(address);
        long page = pageOf(address);
        long me = Thread.currentThread().threadId();
        if (Raw.getLong(page + PAGE_OWNER) == me) {
            if (checked) {
                long index = Pages.blockIndex(page, address);
                long word = liveWord(Raw.getLong(page + LIVE_MAP), index);
                long bit = 1L << index;
                long live = Raw.getLong(word);
                Raw.putLong(word, live & ~bit);
                Raw.getAndBitwiseAndLong(word + 8, ~bit); // pending mark off; partner: markPending's OR
                if ((live & bit) == 0) {
                    return; // its owner freed it too, racing the mark: it is on a local list (see Pages)
                }
            }
            freeLocal(page, address);
        } else {
            freeRemote(page, address, me); // checked: the remote bit is already set, as a remote free sets it
        }
    }

    /**
     * A delayed free drops its block's sample as {@link #free} does, else it stayed for good and a later unsampled
     * block at the address was charged to its site. Before the free: the block cannot be handed out again until then.
     */
    private void forgetSample(long address) {
        if (sites != null) {
            sites.onFree(address);
        }
    }

    /** Unchecked mode, the QSBR domain's {@code sizeOf}: the block's size (and the refusal of arena blocks). */
    long pendingBlockSize(long address) {
        checkOpen(); // as in markPending: a handle's defer(address) after close() would read an unmapped segment
        long page = pageOf(address);
        refuseArenaBlock(page & segmentMask, address);
        return blockSizeOf(page);
    }

    /** The descriptor of a block known to be ours: mask, or the map for a huge block past its first granule. */
    private long pageOf(long address) {
        long segment = address & segmentMask;
        if (Raw.getLong(segment + SEG_COOKIE) != (segment ^ cookie)) {
            segment = store.segmentOf(address);
        }
        // The mask changes nothing for a block of ours; for a call racing close(), which reads the page shift as zero
        // (CloseGuard), it keeps the descriptor inside the segment.
        return descriptor(segment, (int) (((address - segment) >>> Raw.getInt(segment + SEG_PAGE_SHIFT))
                & (maxPages - 1)));
    }

    @Override
    public Qsbr qsbr() {
        return delayed.domain();
    }

    @Override
    public QsbrThread qsbrThread() {
        checkOpen();
        return delayed.participant();
    }

    /** Blocks marked pending and not yet freed: queued on QSBR one by one, in handed-over batches, or filling. */
    long delayedPending() {
        long filling = 0;
        for (HeapImpl heap : registry.all()) {
            DelayedBatch batch = heap.delayedBatch;
            filling += batch == null ? 0 : batch.count();
        }
        return delayed.pending() + batchedPending.get() + filling;
    }

    /**
     * The page descriptor of the block at {@code address}, proven: a live segment of this allocator, a page in
     * use, an exact block start. Throws naming {@code op} otherwise; reads nothing it has not proven mapped.
     */
    private long checkedPage(String op, long address) {
        return checkedPage(op, store.segmentOf(address), address);
    }

    /** {@link #checkedPage(String, long)} for the segment the map gave for {@code address}. */
    private long checkedPage(String op, long segment, long address) {
        long page = blockPage(segment, address);
        if (page == NOT_OURS) {
            throw refusal(Errors.notOurs(op, address));
        }
        if (page == NOT_BLOCK_START) {
            throw refusal(Errors.notBlockStart(op, address));
        }
        return page;
    }

    private static final long NOT_OURS = -1;
    /** {@link #free(long)}'s mark for a proof that is no check in flight: the caller owns the segment. */
    private static final int OWNED = -2;
    private static final long NOT_BLOCK_START = -2;

    /**
     * The descriptor of the page whose block starts at {@code address}, read only where the radix tree and the
     * segment cookie have proven the memory ours; {@link #NOT_OURS} or {@link #NOT_BLOCK_START} otherwise.
     */
    private long blockPage(long address) {
        return blockPage(store.segmentOf(address), address);
    }

    /** {@link #blockPage(long)} for the segment the map gave for {@code address} (or {@code NOT_OURS}). */
    private long blockPage(long segment, long address) {
        if (segment == AddressMap.NOT_OURS || Raw.getLongAcquire(segment + SEG_COOKIE) != (segment ^ cookie)) {
            return NOT_OURS;
        }
        long pageIndex = (address - segment) >>> Raw.getInt(segment + SEG_PAGE_SHIFT);
        if (pageIndex >= maxPages) { // a torn read of a segment being reused: see inSegment
            return NOT_OURS;
        }
        long page = descriptor(segment, (int) pageIndex);
        long blocksBytes = Raw.getLongAcquire(page + BLOCKS_BYTES); // partner: release store in Pages.format
        long offset = address - Raw.getLong(page + PAGE_START);
        if (Long.compareUnsigned(offset, blocksBytes) >= 0) {
            return NOT_BLOCK_START;
        }
        long index = (offset * Raw.getLong(page + RECIPROCAL)) >>> RECIPROCAL_SHIFT;
        if (index * Raw.getInt(page + BLOCK_SIZE) != offset) { // huge blocks: offset 0 is the only start
            return NOT_BLOCK_START;
        }
        return page;
    }

    /**
     * Whether the bitmap word at {@code word} (and the remote word after it) lies inside {@code segment}'s first
     * {@code segmentSize} bytes, which stay mapped while a proof runs. A proof of a stale address can read a segment
     * that is being given back and reused at that moment (the cookie checked, then the metadata cleared and
     * rewritten under it): its page shift, page start, reciprocal or bitmap pointer may then be zero or another
     * format's, and an address derived from them may point anywhere. Every address a proof reads is bounded:
     * descriptors by {@link #maxPages}, bitmap words here. What such a proof then decides is as stale as its
     * address; it never reads outside the segment.
     */
    private boolean inSegment(long segment, long word) {
        return Long.compareUnsigned(word - segment - HEADER_SIZE, segmentSize - HEADER_SIZE - 16) <= 0;
    }

    /** The bitmap word of a block a proof found in {@code page}, or 0 outside its segment (see inSegment). */
    private long proofWord(long page, long address) {
        long word = liveWord(Raw.getLong(page + LIVE_MAP), Pages.blockIndex(page, address));
        return inSegment(page & segmentMask, word) ? word : 0;
    }

    /** Whether the block a proof found in {@code page} is live and not freed or pending (its bits, bounded). */
    private boolean provenLive(long page, long address) {
        long word = proofWord(page, address);
        long bit = 1L << Pages.blockIndex(page, address);
        return word != 0 && (Raw.getLong(word) & bit) != 0 && (Raw.getLongVolatile(word + 8) & bit) == 0;
    }

    private void freeUnchecked(long address) {
        long page = pageOf(address);
        long me = Thread.currentThread().threadId();
        long pageOwner = Raw.getLong(page + PAGE_OWNER);
        if (pageOwner == me) {
            freeLocal(page, address);
        } else {
            // A virtual threads' heap's block too: taking the heap's lock to free as its owner, as the checked free
            // does, cost more than the push (docs/benchmarks.md, "Frees of virtual threads' blocks as the owner").
            freeRemote(page, address, me, pageOwner);
        }
    }

    /**
     * Checked free: the virtual threads' heap a map entry's owner names, locked, or null (the entry names no such
     * heap, or the heap is busy: only {@code tryLock}, a free never waits). Whoever holds a shared heap's lock is its
     * owner, so a free that takes it frees like the owner: a push on the page's local list, without the check in
     * flight, the atomic on the remote bit and the push on the cross-thread list, and without leaving the heap a
     * collection to do. The caller looks the entry up again under the lock.
     */
    private HeapImpl lockSharedHeap(long entryOwner) {
        int heapId = MapEntry.sharedHeap(entryOwner, shift);
        if (heapId < 0) {
            return null;
        }
        HeapImpl heap = registry.byId(heapId);
        return heap != null && heap.lock != null && heap.lock.tryLock() ? heap : null;
    }

    private void freeLocal(long page, long address) {
        if (freeFill >= 0) {
            fillFreed(page, address);
        }
        Raw.putLong(address, Raw.getLong(page + LOCAL_FREE));
        Raw.putLong(page + LOCAL_FREE, address);
        long state = Raw.getLong(page + STATE); // USED | FLAGS << 32 | RETAIN << 48
        int used = (int) state - 1;
        Raw.putLong(page + STATE, state - 1); // USED - 1; FLAGS and RETAIN rewritten as read (owner only)
        if ((short) (state >>> 32) != 0 || (used == 0 && (short) (state >>> 48) == 0)) {
            freeLocalSlow(page);
        }
    }

    private void freeLocalSlow(long page) {
        int guard = closeGuard.enter(); // the page's retirement follows its metadata: see CloseGuard
        try {
            if ((Raw.getShort(page + FLAGS) & FLAG_HUGE) != 0) {
                releaseHuge(page);
                return;
            }
            heapOf(page).pageFreedSlow(page);
        } finally {
            closeGuard.exit(guard);
        }
    }

    private void freeRemote(long page, long address, long me) {
        freeRemote(page, address, me, 0);
    }

    /** {@link #freeRemote} with the page's owner as read before the push ({@code PAGE_OWNER}; 0 when not read). */
    private void freeRemote(long page, long address, long me, long pageOwner) {
        if (Raw.getInt(page + BIN) < 0) { // huge (FLAGS would be the same test, on the line the owner writes)
            releaseHugeRemotely(page);
            return;
        }
        int sweep = pushRemote(page, address, me);
        if (sweep == NO_SWEEP && (pageOwner == pooledBy(me) || pageOwner == PAGE_POOLED)) {
            sweep = RECLAIM_PAGE;
        }
        if (sweep != NO_SWEEP) {
            sweepAbandoned(page, sweep);
        }
    }

    /** {@link #pushRemote}'s answers: what the abandoned segment the block went back to needs next. */
    private static final int NO_SWEEP = 0;
    private static final int SWEEP_SEGMENT = 1;
    private static final int SWEEP_ALL = 2;
    /** Not {@link #pushRemote}'s: the checked free's note that its block is huge and its segment goes back. */
    private static final int RELEASE_HUGE = 3;
    /**
     * Not {@link #pushRemote}'s: the block went to a pooled page that the freeing thread gave, or whose heap ended:
     * the thread's heap takes the page back ({@link #reclaimOnFree}), and collects the block with the rest.
     */
    private static final int RECLAIM_PAGE = 4;

    /**
     * Pushes a block of a normal page onto the page's cross-thread list; returns whether an abandoned segment needs a
     * sweep, which the caller runs outside any check in flight (a sweep may give segments back). {@code me} is the
     * calling thread's id, left on the page for the abandoned pool (before the push: the block pins the page).
     */
    private int pushRemote(long page, long address, long me) {
        if (freeFill >= 0) {
            fillFreed(page, address);
        }
        if (Raw.getInt(page + LAST_FREER) != (int) me) { // the line the push below takes anyway; mostly unchanged
            Raw.putInt(page + LAST_FREER, (int) me);
        }
        long head;
        do {
            head = Raw.getLongVolatile(page + XTHREAD_FREE);
            if ((head & ABANDONED_TAG) != 0) {
                return pushAbandoned(page, address, me);
            }
            Raw.putLong(address, head);
        } while (!Raw.casLong(page + XTHREAD_FREE, head, address)); // partner: getAndSet in Pages.collect
        return NO_SWEEP;
    }

    /**
     * A remote free into an abandoned segment (protocol in {@link AbandonedPool}): count it before the push, while
     * the block still pins the segment, push it keeping the tag, and ask for a sweep when the count says the
     * segment may be empty. Nothing of the segment is touched after the push.
     */
    private int pushAbandoned(long page, long address, long me) {
        long segment = page & segmentMask; // descriptors sit in their segment's header
        long frees = Raw.getAndAddLong(segment + SEG_ABANDONED_FREES, 1) + 1;
        long live = Raw.getLong(segment + SEG_ABANDONED_LIVE);
        long freer = Raw.getLong(segment + SEG_LAST_FREER); // the pool's adoption hint: one freer, or many
        if (freer != me && freer != MANY_FREERS) {
            Raw.putLong(segment + SEG_LAST_FREER, freer == NO_FREER ? me : MANY_FREERS);
        }
        long head;
        do {
            head = Raw.getLongVolatile(page + XTHREAD_FREE);
            Raw.putLong(address, head & ~ABANDONED_TAG);
        } while (!Raw.casLong(page + XTHREAD_FREE, head, address | (head & ABANDONED_TAG)));
        if (frees >= live) {
            return SWEEP_SEGMENT;
        }
        return (frees & 63) == 0 ? SWEEP_ALL : NO_SWEEP;
    }

    /** Sweeps after {@link #pushAbandoned}: the segment the block went to, or (now and then) the whole pool. */
    private void sweepAbandoned(long page, int sweep) {
        int guard = closeGuard.tryEnter(); // a sweep reads the pool's segments: see CloseGuard
        if (guard < 0) {
            return; // closed: nothing to sweep any more
        }
        try {
            if (sweep == RECLAIM_PAGE) {
                reclaimOnFree(page);
            } else if (sweep == SWEEP_SEGMENT) {
                pool.trySweep(page & segmentMask);
            } else {
                pool.maybeSweepAll(); // reads the clock: not on every abandoned free
            }
        } finally {
            closeGuard.exit(guard);
        }
    }

    /** A remote free of a huge block: no list collects it, so it is counted here, beside its segment's release. */
    private void releaseHugeRemotely(long page) {
        int guard = closeGuard.enter();
        try {
            remoteHugeFrees.increment();
            releaseHuge(page);
        } finally {
            closeGuard.exit(guard);
        }
    }

    /** A huge block is freed by whichever thread frees it: its segment goes straight back. */
    private void releaseHuge(long page) {
        long segment = page & segmentMask;
        HeapImpl owner = heapOf(page);
        if ((owner != null && owner.hugeSegments.remove(segment)) || orphanHuge.remove(segment)) {
            store.release(segment);
        }
    }

    private void fillFreed(long page, long address) {
        long size = blockSizeOf(page);
        if (size > Long.BYTES) {
            Raw.fill(address + Long.BYTES, size - Long.BYTES, (byte) freeFill);
        }
    }

    /**
     * After a free pushed a block onto a pooled page that the calling thread gave, or whose heap ended: the thread's
     * heap takes the page back (PagePool), with the block, which it collects with the rest. mimalloc 3 reclaims on
     * free too: a thread that still frees into its pages keeps them, and an ended heap's pages go to the thread that
     * took over its work (larson's successor), which frees into them. Decided after the push, from the owner read
     * before it: written as a choice inside {@code free} (a call there), it cost xmalloc a fifth of its time.
     */
    private void reclaimOnFree(long page) {
        HeapImpl heap = pagePool.reclaimForFreer(page, this::reclaimingHeap);
        if (heap != null) {
            heap.reclaimedByFree(page);
        }
    }

    /**
     * The calling thread's heap that takes back a pooled page: the giver's, when it is this thread's (ids are reused,
     * hence the thread check), or for an ended heap's page the thread's heap of the page's tag; null when none.
     * Called under the page pool's lock, with the page pooled (so mapped).
     */
    private HeapImpl reclaimingHeap(long page) {
        long me = Thread.currentThread().threadId();
        long owner = Raw.getLong(page + PAGE_OWNER);
        HeapImpl heap = owner == pooledBy(me) ? registry.byId(Raw.getInt(page + PAGE_HEAP))
                : owner == PAGE_POOLED ? registry.existingThreadHeap(Raw.getInt((page & segmentMask) + SEG_TAG)) : null;
        return heap != null && heap.ownerTid() == me && !heap.closed && heap.role() == HeapImpl.Role.THREAD
                ? heap : null;
    }

    /** The heap that owns {@code page}: called by that heap's thread (ids are reused: see HeapRegistry). */
    private HeapImpl heapOf(long page) {
        return registry.byId(Raw.getInt(page + PAGE_HEAP));
    }

    static long blockSizeOf(long page) {
        return (Raw.getShort(page + FLAGS) & FLAG_HUGE) != 0 ? Raw.getLong(page + BLOCKS_BYTES)
                : Raw.getInt(page + BLOCK_SIZE);
    }

    // ---------------------------------------------------------------------------------------------- queries

    @Override
    public long usableSize(long address) {
        return usableSize("usableSize", address);
    }

    /** The usable size of a live block, proven in checked mode; errors name {@code op}, the caller's operation. */
    private long usableSize(String op, long address) {
        checkOpen();
        if (address == 0) { // in unchecked mode too: a null is cheap to refuse, and its page would be address 0
            throw Errors.notOurs(op, address);
        }
        if (!checked) {
            return blockSizeOf(pageOf(address));
        }
        long entry = map.lookup(address);
        // The caller's own segment needs no mark (see free); any other may be going away (see SegmentStore).
        int check = ownedByCaller(entry) ? OWNED : store.enterCheck();
        try {
            long page = checkedPage(op, check == OWNED ? MapEntry.base(entry, shift) : store.segmentOf(address),
                    address);
            if (!provenLive(page, address)) {
                throw refusal(Errors.notLive(op, address));
            }
            return blockSizeOf(page);
        } finally {
            if (check != OWNED) {
                store.exitCheck(check);
            }
        }
    }

    /** Whether the map entry names the calling thread as its normal segment's owner: a proof there needs no mark. */
    private boolean ownedByCaller(long entry) {
        return entry != AddressMap.NOT_OURS && MapEntry.owner(entry, shift) == Thread.currentThread().threadId();
    }

    @Override
    public boolean isLive(long address) {
        checkOpen();
        long entry = map.lookup(address);
        if (!checked) {
            return entry != AddressMap.NOT_OURS;
        }
        if (ownedByCaller(entry)) {
            // The caller's own segment: as for free's, no mark, since only its owner gives it back (see free).
            long page = blockPage(MapEntry.base(entry, shift), address);
            return page >= 0 && provenLive(page, address);
        }
        int check = store.enterCheck(); // safe for any address: see SegmentStore, checks in flight
        try {
            long page = blockPage(address);
            if (page < 0) {
                return false;
            }
            return provenLive(page, address);
        } finally {
            store.exitCheck(check);
        }
    }

    @Override
    public boolean owns(long address) {
        checkOpen();
        return map.lookup(address) != AddressMap.NOT_OURS;
    }

    @Override
    public Arena newArena() {
        checkOpen();
        CairnArena arena = new CairnArena(this, registry.newHeap(HeapImpl.Role.ARENA, 0), false);
        openArenas.add(arena);
        return arena;
    }

    @Override
    public Arena newSharedArena() {
        checkOpen();
        CairnArena arena = new CairnArena(this, registry.newHeap(HeapImpl.Role.SHARED_ARENA, 0), true);
        openArenas.add(arena);
        return arena;
    }

    void arenaClosed(CairnArena arena) {
        openArenas.remove(arena);
    }

    @Override
    public AllocatorStats stats() {
        checkOpen();
        return HeapWalker.stats(this);
    }

    @Override
    public void visitBlocks(BlockVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        checkOpen();
        HeapWalker.visit(this, HeapWalker.ALL_TAGS, visitor);
    }

    @Override
    public void visitBlocks(int tag, BlockVisitor visitor) {
        checkTag(tag);
        Objects.requireNonNull(visitor, "visitor");
        checkOpen();
        HeapWalker.visit(this, tag, visitor);
    }

    @Override
    public void validate() {
        checkOpen();
        HeapWalker.validate(this);
    }

    @Override
    public void collect(boolean force) {
        checkOpen();
        registry.reapDead(); // first: a dead thread's unsent delayed frees join this thread's queue, run just below
        java.util.List<HeapImpl> heaps = registry.threadHeaps();
        for (HeapImpl heap : heaps) {
            handOverDelayed(heap);
        }
        delayed.processCurrentThread(); // outside the guard below: it may run deferred tasks, user code
        int guard = closeGuard.enter();
        try {
            for (HeapImpl heap : heaps) {
                heap.collect(force);
            }
            // Other threads' retired pages: an idle owner would keep them committed (HeapImpl, "Purges by another
            // thread"); an owner busy with them right now is skipped, its own slow path purges them.
            for (HeapImpl other : registry.allHeaps()) {
                if (!heaps.contains(other)) {
                    other.purgeForAnotherThread(force);
                }
            }
            if (force) {
                registry.forEachSharedLocked(shared -> shared.collect(true));
            }
            pool.sweepAll(true);
            store.trimCache();
        } finally {
            closeGuard.exit(guard);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        if (store.inWalk()) { // its segments would be unmapped under the walk that is reading them
            throw new IllegalStateException("close() inside visitBlocks or a heap dump of this allocator");
        }
        Throwable cleanupFailure = closeArenas(); // thrown once the allocator is closed: see closeArenas
        segmentScope.close(); // before anything is unmapped; throws, leaving the allocator open, while in use
        if (config.dumpOnClose() != null) {
            dumpOnClose();
        }
        if (management != null) {
            management.unregister();
        }
        closed = true;
        registry.closeAll(); // every later call refuses; reaps and releases in flight finished under its lock
        closeGuard.closeAndAwait(); // slow paths in flight finish, later ones refuse
        pool.clear();
        orphanHuge.clear();
        // Fast paths in flight may still read the segments: they get zero pages, never unmapped ones (CloseGuard).
        // The addresses (and the metadata arena, which holds the empty page) go once no thread can hold this.
        store.retireAll();
        delayed.close(); // and drop what would keep this allocator reachable from other threads' thread-locals
        registry.forgetThreads();
        Unmapper.CLEANER.register(this, new Unmapper(store.space(), metaArena));
        if (cleanupFailure instanceof RuntimeException e) {
            throw e;
        }
        if (cleanupFailure instanceof Error e) {
            throw e;
        }
    }

    /** Unmaps a closed allocator's retired segments once the allocator is unreachable; holds nothing of it. */
    private record Unmapper(dev.cairn.segments.SegmentSpace space, Arena metaArena) implements Runnable {
        /** Its thread starts with the first close. */
        static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

        @Override
        public void run() {
            try {
                space.close();
            } finally {
                metaArena.close();
            }
        }
    }

    /**
     * An open arena's segments are alive until its confined scope closes, which only its own thread can do: the
     * caller's arenas are closed here, and a live thread's open arena refuses the close, as unmapping the memory
     * under its segments would make an access crash the JVM. A dead thread's arena can no longer be accessed.
     */
    private Throwable closeArenas() {
        Thread current = Thread.currentThread();
        for (CairnArena arena : openArenas) {
            Thread owner = arena.owner(); // null for a shared arena: any thread may close it
            if (owner != null && owner != current && owner.isAlive()) {
                throw new IllegalStateException("cannot close the allocator: an arena of " + owner
                        + " is still open (close it on its thread first)");
            }
        }
        // A cleanup action (MemorySegment.reinterpret(..., arena, cleanup)) that throws does so after the JDK has
        // closed the scope and run the other cleanups: the close goes on, and the caller gets the first failure at
        // the end, with the allocator closed (it used to stop here, leaving it open and later arenas open).
        Throwable failure = null;
        for (CairnArena arena : openArenas) {
            if (arena.owner() == current || arena.owner() == null) {
                try {
                    arena.closeScopeForAllocator();
                } catch (RuntimeException | Error e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
        }
        openArenas.clear();
        return failure;
    }

    private void dumpOnClose() {
        try {
            String path = config.dumpOnClose().replace("{id}", Long.toString(domainId));
            HeapDumper.write(this, java.nio.file.Path.of(path), dev.cairn.alloc.DumpOptions.DEFAULT);
        } catch (RuntimeException e) { // a bad path or a full disk: close must still release the memory
            System.getLogger("dev.cairn.alloc").log(System.Logger.Level.WARNING,
                    "Cairn: heap dump on close failed: " + e.getMessage());
        }
    }

    /**
     * A checked call's refusal, unless the allocator closed while the call ran: its proof then read retired memory
     * (zeros, see CloseGuard), and the true answer is that the allocator is closed.
     */
    private RuntimeException refusal(RuntimeException refused) {
        return closed ? Errors.closed() : refused;
    }

    void checkOpen() {
        if (closed) {
            throw Errors.closed();
        }
    }

    @Override
    public String toString() {
        return "Allocator[" + (checked ? "checked" : "unchecked") + ", segments=" + store.liveSegments()
                + (closed ? ", closed]" : "]");
    }
}
