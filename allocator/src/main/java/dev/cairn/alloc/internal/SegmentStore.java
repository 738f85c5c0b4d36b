package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.radix.AddressMap;
import dev.cairn.segments.Segment;
import dev.cairn.segments.SegmentSpace;
import dev.cairn.segments.raw.Raw;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The allocator's segments: taken from the {@link SegmentSpace}, registered in the allocator's own
 * {@link AddressMap} (so a checked free rejects every address that is not in a live segment of this allocator),
 * formatted, and given back.
 *
 * <p>Released normal segments are unregistered and parked in a small cache before they are unmapped. The cache
 * saves {@code mmap} calls under churn, and it also closes a race: a checked free that looked a segment up just
 * before its release still reads mapped memory, whose cookie (cleared at release) no longer matches, instead of
 * faulting. A cached segment is purged only once the allocator's purge delay has passed ({@link #purgeExpiredCache},
 * from the heaps' slow paths; at once when the delay is zero), so a thread that starts just after another ended
 * takes the segment back resident instead of faulting its metadata and pages in again (docs/benchmarks.md, "What a
 * new thread pays"); ten delays, within a budget of committed bytes ({@link #cacheGraceBudget}), because threads that
 * end together release their segments together and the next ones may be a while coming (docs/benchmarks.md,
 * "Released segments kept ten purge delays"). The longer wait never raises the allocator's peak of committed bytes: a
 * commit that would pass the peak purges such segments first ({@link #purgeGracedBelowPeak}). Released huge segments: the newest few are kept mapped the same way, purged after the same
 * delay (at once when bigger than a few segments), and reused by a huge block they fit, so a buffer freed and
 * allocated again does not pay a purge and the page faults after it. {@code collect()} unmaps the whole cache.
 *
 * <h2>Exposed segments</h2>
 * A segment some block of which was handed out as a {@code MemorySegment} ({@code allocate}, and every arena
 * segment) is <em>exposed</em> ({@link SegmentLayout#SEG_EXPOSED}): the user may keep that {@code MemorySegment}
 * past the block's free, and FFM checks only its scope, which stays alive until the allocator (or the arena)
 * closes. Reading it then is a use after free, as in C; but if the memory had been unmapped it would also be a
 * SIGSEGV that kills the JVM. So an exposed segment is never unmapped while the allocator is open: released, it is
 * purged (its RAM goes back to the OS, the mapping stays readable and writable) and kept for reuse, with no limit
 * on how many are kept; a normal one is reused by the next new segment, a huge one by the next huge block it is
 * big enough for. A stale access then reads zeros or another block's memory, never an unmapped page. The cost is
 * address space and commit charge (not RAM) held at its peak until close; {@code close()} ends the scopes first and
 * only then gives everything back ({@link #retireAll}).
 *
 * <h2>Checks in flight ({@link #enterCheck}, {@link #awaitChecks})</h2>
 * The cache does not make every checked read of a released segment's header safe: a release finding the cache full
 * unmaps the segment at once, as does every huge release and {@code collect()}'s trim of the cache. So the
 * allocator's queries that must be safe for any address ({@code isLive}, {@code usableSize}, {@code realloc},
 * {@code freeDelayed}'s and {@code free}'s proofs) run between {@link #enterCheck} and {@link #exitCheck}: the checking thread marks
 * itself in flight and fences, then looks the address up and reads the segment. Every unmap of a segment that was
 * registered first waits until each mark has been seen clear once ({@link #awaitChecks}, after a fence that follows
 * the map removal). Dekker's pattern: either the releaser sees the checker's mark and waits for its exit (whose
 * clearing is ordered after its reads), or the checker's lookup, which comes after its fence, sees the segment
 * removed and reads nothing of it. A guarded section never releases a segment (it would wait for itself).
 *
 * <p>The mark: a thread claims the padded slot its id hashes to ({@link #CHECK_SLOTS} of them) with one CAS from 0
 * to its id, and clears it with a release store: one atomic per check, none on the way out, and no line shared with
 * other threads' checks. A thread whose slot is held (another thread with the same hash is checking, or this thread
 * nests a check in one) counts itself in a shared counter instead, with an atomic on the way in and out. Before,
 * every check counted itself in a counter striped by thread id, three atomic operations a check (the increment, the
 * fence, the decrement). Where the OS offers an asymmetric barrier, a platform thread marks its checks in a slot of
 * its own instead, with no atomic and no fence ({@link CheckMarks}; {@link #awaitChecks} runs the barrier); the CAS
 * slots serve virtual threads, threads whose mark slot is taken, and systems without the barrier. A checked
 * {@code free} is a check in flight too, except when the map entry names the calling thread as the segment's owner
 * ({@link MapEntry}): only the owner gives such a segment back, and it is busy freeing.
 *
 * <h2>Graces ({@link #graceStamp}, {@link #awaitGrace})</h2>
 * Checked mode. A remote free that lost a race with its block's owner (docs/design/allocator.md, section 5, "Raced
 * double frees") may still write the block's bitmap word and page descriptor, inside its check in flight, after the
 * owner gave the page or the whole segment up. So memory given up is stamped, and before it takes a new layout (a
 * page formatted again, a cached segment reused) a wait like an unmap's must have begun after the stamp and ended:
 * every wait is numbered, and one wait serves every stamp before it.
 *
 * <p>Thread-safety: every method may be called from any thread; the cache is guarded by {@code this}.
 */
final class SegmentStore {

    /**
     * Normal segments the cache keeps, exposed ones aside: a bound on address space (a purged segment holds no RAM).
     * Enough for every segment a few threads of each kind release at once: rptest's eight threads end holding about
     * 24 (docs/benchmarks.md, "Released segments kept ten purge delays").
     */
    private static final int CACHE_LIMIT = 32;
    /** How many purge delays a released segment within {@link #cacheGraceBudget} stays resident: mimalloc's arena
     * purge multiplier. */
    private static final int CACHE_GRACE_DELAYS = 10;
    /** Slots of checks in flight (a power of two), each on a line of its own: see the class comment. */
    private static final int CHECK_SLOTS = 64;
    private static final int SLOT_SPACING = 16; // longs: 128 bytes
    /** The token of a check counted in {@link #checksOverflow} rather than in a slot. */
    private static final int OVERFLOW = -1;
    /** Tokens of checks marked in {@link CheckMarks}: this plus the mark's slot, above every CAS slot. */
    private static final int MARKED = 1 << 20;

    private final SegmentSpace space;
    private final AddressMap map;
    private final long cookie;
    private final long segmentSize;
    /** Log2 of {@link #segmentSize}: the map's granule, and the split of its entries ({@link MapEntry}). */
    private final int shift;
    private final long commitLimit;
    private final boolean checked;
    /** Graces begun and ended (see "Graces"): a number is taken when a wait begins. */
    private final java.util.concurrent.atomic.AtomicLong gracesBegun = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong gracesEnded = new java.util.concurrent.atomic.AtomicLong();
    /** The newest grace stamp of a segment put in {@link #retainedHuge}; guarded by {@code this}. */
    private long retainedHugeGrace;
    /** Held from the commit limit's check to the commit, when there is a limit (see commit). */
    private final Object commitLimitLock = new Object();
    /**
     * The registered segments, keyed by segment index ({@code base >>> shift}, see {@link #key}), not by base: bases
     * are aligned to the segment size, so their {@code Long} hashes share their low bits, and keyed by base every
     * segment of a 4 GiB region fell into one bin of the map (at 64 bins; 4 of 256), which the map then keeps as a
     * red-black tree. Besides a lock and a tree search on every update, a tree bin shows a new key to an iteration
     * (its node is linked into the bin's list first) before {@code get} can find it (then into the tree): a heap
     * dump listed a segment another thread was registering, and its {@code get} a moment later failed with "not
     * live" (the torture test, about one run in 30). Segment indexes spread over every bin.
     */
    private final ConcurrentHashMap<Long, Segment> live = new ConcurrentHashMap<>();
    /** Newest first; guarded by {@code this}. */
    private final ArrayDeque<Cached> cache = new ArrayDeque<>();
    /** Cached segments not purged yet: lets the slow path skip the monitor when there is nothing to purge. */
    private volatile int unpurgedCached;
    /**
     * Committed bytes of the cached segments granted {@link #CACHE_GRACE_DELAYS} (Cached.graced, summed); written under
     * {@code this}, read without it by {@link #commit} to skip {@link #purgeGracedBelowPeak} when there are none.
     */
    private volatile long cacheGracedBytes;
    private final long purgeDelayNanos;

    /** Set by the allocator's close, once every scope has ended: nothing needs to stay mapped any more. */
    private volatile boolean closing;
    /** Released exposed huge segments, purged, kept mapped for reuse until close; guarded by {@code this}. */
    private final java.util.List<Segment> retainedHuge = new java.util.ArrayList<>();
    /**
     * Released huge segments never exposed, newest first, at most {@link #CACHE_LIMIT}: reused by the next huge
     * block they fit (saving the map and unmap), and, like the cache, still mapped when a checked free that raced
     * with the release reads their header. Purged once the purge delay has passed, as the cache is, if at most
     * {@link #HUGE_DELAYED_PURGE_MAX} segment sizes; bigger ones at once. Guarded by {@code this}; {@code collect()}
     * unmaps them.
     */
    private final ArrayDeque<Cached> cachedHuge = new ArrayDeque<>();

    /**
     * The largest huge segment, in segment sizes, whose purge waits for the purge delay: a huge block freed and
     * allocated again at once (a buffer's churn) reuses its pages without a purge and the faults after it; beyond
     * this, the memory a delayed purge holds for a program that then stops allocating is too much.
     */
    private static final int HUGE_DELAYED_PURGE_MAX = 4;

    /** A released huge segment taken back for a new huge block: whether it was exposed, and reads as zeros. */
    private record ReusedHuge(Segment segment, boolean exposed, boolean zeroed, long grace) {
    }

    /**
     * A released normal segment, resident until {@code purgeAt} (nanoTime) unless {@code purged}. Exposed ones are
     * never unmapped before close and do not count against {@link #CACHE_LIMIT}.
     */
    private static final class Cached {
        final Segment segment;
        final long purgeAt;
        final boolean exposed;
        /** Its committed bytes when it was granted the longer wait ({@link #cacheGraceBudget}), else 0. */
        long graced;
        /** The grace its reuse waits for ({@link #graceStamp}): it was in the map until its release. */
        final long grace;
        boolean purged;

        Cached(Segment segment, long purgeAt, boolean exposed, long grace) {
            this(segment, purgeAt, exposed, grace, 0);
        }

        Cached(Segment segment, long purgeAt, boolean exposed, long grace, long graced) {
            this.segment = segment;
            this.purgeAt = purgeAt;
            this.exposed = exposed;
            this.grace = grace;
            this.graced = graced;
        }
    }
    /** Walks hold the read side; giving a segment back holds the write side. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock releaseLock =
            new java.util.concurrent.locks.ReentrantReadWriteLock();
    /**
     * Segments given back while a walk holds the read side: the walk's end releases them. Waiting for the write side
     * instead would hang in two ways: inside the thread's own walk (a {@code visitBlocks} visitor that frees), and
     * when the giver holds a monitor the walking thread then waits for (a heap's release or reaping holds the heap
     * registry's, which a visitor calling {@code stats()} takes: {@code VisitorCallsTest}). A queued segment's cookie
     * is cleared when it is queued ({@link #release}): from then on no proof accepts it and no walk visits it.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<Long> releasesAfterWalk =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** Each slot holds 0 or the id of the thread checking in it: see the class comment. */
    private final java.util.concurrent.atomic.AtomicLongArray checkSlots =
            new java.util.concurrent.atomic.AtomicLongArray(CHECK_SLOTS * SLOT_SPACING);
    /** Checks in flight whose thread found its slot held. */
    private final java.util.concurrent.atomic.AtomicLong checksOverflow = new java.util.concurrent.atomic.AtomicLong();

    SegmentStore(SegmentSpace space, long cookie, long commitLimit, long purgeDelayNanos) {
        this(space, cookie, commitLimit, purgeDelayNanos, true);
    }

    /** {@code checked}: whether memory given back waits for a grace before its reuse (see "Graces"). */
    SegmentStore(SegmentSpace space, long cookie, long commitLimit, long purgeDelayNanos, boolean checked) {
        this.checked = checked;
        this.purgeDelayNanos = purgeDelayNanos;
        this.space = space;
        this.segmentSize = space.segmentSize();
        this.shift = Long.numberOfTrailingZeros(segmentSize);
        this.map = AddressMap.create(shift);
        this.cookie = cookie;
        this.commitLimit = commitLimit;
    }

    AddressMap map() {
        return map;
    }

    long segmentSize() {
        return segmentSize;
    }

    SegmentSpace space() {
        return space;
    }

    int liveSegments() {
        return live.size();
    }

    /**
     * Runs {@code action} on every live segment base while no segment can be given back, so a walk from any thread
     * never reads unmapped memory. Segments created during the walk may or may not be visited.
     */
    void forEachSegment(java.util.function.LongConsumer action) {
        releaseLock.readLock().lock();
        try {
            for (long key : live.keySet()) {
                long base = key << shift;
                if (!givenBack(base)) {
                    action.accept(base);
                }
            }
        } finally {
            endWalk();
        }
    }

    /** Drops this thread's read side; when its last walk ends, gives back what it freed meanwhile. */
    private void endWalk() {
        releaseLock.readLock().unlock();
        if (!inWalk()) {
            drainReleases();
        }
    }

    /**
     * Releases the queued segments unless a walk holds the read side (the last walk to end drains them). Queued
     * before the read count is looked at, so a walk that ends meanwhile either sees the segment queued or leaves the
     * write side free for this loop. Another release holds the write side while it unmaps, and waits for nothing but
     * the checks in flight and this store's monitor; this loop parks meanwhile: spinning (or {@code Thread.yield},
     * which keeps the carrier's queue busy), virtual threads waiting here would take every carrier from a holder that
     * is a virtual thread unmounted (blocked on the monitor, or yielding in {@link #awaitChecks}), and none would
     * ever run again ({@code ReleaseWaitYieldsTest}). An interrupted caller's flag is cleared while it waits (with
     * the flag set, {@code parkNanos} returns at once and the loop spun again) and set again before it returns.
     */
    private void drainReleases() {
        boolean interrupted = false;
        try {
            while (!releasesAfterWalk.isEmpty()) {
                if (releaseLock.writeLock().tryLock()) {
                    try {
                        for (Long base; (base = releasesAfterWalk.poll()) != null; ) {
                            if (live.containsKey(key(base)) && !closing) { // retireAll takes them with the rest
                                releaseLocked(base);
                            }
                        }
                    } finally {
                        releaseLock.writeLock().unlock();
                    }
                } else if (releaseLock.getReadLockCount() > 0) {
                    return; // a walk: it drains when it ends
                } else {
                    interrupted |= Thread.interrupted();
                    java.util.concurrent.locks.LockSupport.parkNanos(10_000); // frees the carrier: see above
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- heap dumps (HeapDumper): several passes over the same segments, none of which may be given back ----

    /** Holds the release lock's read side until {@link #unpin()}: no segment is given back meanwhile. */
    void pin() {
        releaseLock.readLock().lock();
    }

    void unpin() {
        endWalk();
    }

    /** Live segment bases in address order (call while pinned). */
    long[] liveBases() {
        // An iteration may see a segment whose registration is under way before get does (see live): only those
        // that get finds are listed, so that every later lookup of the dump finds them too.
        return live.keySet().stream().filter(key -> live.get(key) != null).mapToLong(key -> key << shift)
                .filter(base -> !givenBack(base)).sorted().toArray();
    }

    /** Whether the segment at {@code base}, still mapped and in {@link #live}, waits for a walk to end to go back. */
    static boolean givenBack(long base) {
        return Raw.getLongAcquire(base + SEG_COOKIE) == 0; // never 0 while live: base is even, base ^ cookie odd
    }

    boolean isCommitted(long base, long offset, long length) {
        return space.isCommitted(segmentAt(base), offset, length);
    }

    long commitUnit() {
        return space.config().commitUnit();
    }

    /**
     * The allocator's close, after it has ended the scopes of every {@code MemorySegment} it handed out and its slow
     * paths have left: every live, cached and retained segment's memory goes back to the OS, but its addresses stay
     * mapped as zero pages ({@code SegmentSpace.retire()}) for fast paths that may still be running (see CloseGuard).
     * Waits first for walks and checks in flight, which read the segments as they were. Their cookies read zero from
     * then on, so a walk or a proof that starts later finds no segment of this allocator.
     */
    void retireAll() {
        closing = true;
        releaseLock.writeLock().lock(); // waits out other threads' walks
        try {
            releasesAfterWalk.clear(); // the space retires these with the rest
            awaitChecks();
            space.retire();
        } finally {
            releaseLock.writeLock().unlock();
        }
    }

    /**
     * Starts a check that reads a segment found in the map (see the class comment); returns the token for
     * {@link #exitCheck}. No segment is unmapped until the check exits.
     */
    int enterCheck() {
        int mark = CheckMarks.enter();
        if (mark != CheckMarks.NONE) {
            return MARKED + mark; // no atomic: see CheckMarks
        }
        long me = Thread.currentThread().threadId();
        int slot = ((int) me & (CHECK_SLOTS - 1)) * SLOT_SPACING;
        if (!checkSlots.compareAndSet(slot, 0, me)) {
            slot = OVERFLOW;
            checksOverflow.getAndIncrement();
        }
        java.lang.invoke.VarHandle.fullFence(); // the mark before the lookup; partner: awaitChecks
        return slot;
    }

    void exitCheck(int slot) {
        if (slot >= MARKED) {
            CheckMarks.exit(slot - MARKED);
        } else if (slot == OVERFLOW) {
            checksOverflow.getAndDecrement(); // after the check's reads
        } else {
            checkSlots.setRelease(slot, 0); // after the check's reads
        }
    }

    /** Before an unmap: waits until every check that may have found the segment in the map has exited. */
    private void awaitChecks() {
        long number = gracesBegun.incrementAndGet(); // a full fence too: the map removal before the marks
        CheckMarks.await(); // the checks marked without a fence (see CheckMarks)
        for (int slot = 0; slot < CHECK_SLOTS * SLOT_SPACING; slot += SLOT_SPACING) {
            for (int spins = 0; checkSlots.get(slot) != 0; spins++) {
                awaitBriefly(spins);
            }
        }
        for (int spins = 0; checksOverflow.get() != 0; spins++) {
            awaitBriefly(spins);
        }
        gracesEnded.accumulateAndGet(number, Math::max);
    }

    /**
     * A stamp for memory a checked proof may have found in use until now (a retired page, a released segment): the
     * number of the first grace to begin after this call. Fences first, so the writes that ended its use (the owner's
     * plain clear of a live bit) come before any wait that counts for it. 0 in an unchecked allocator.
     */
    long graceStamp() {
        if (!checked) {
            return 0;
        }
        java.lang.invoke.VarHandle.fullFence();
        return gracesBegun.get() + 1;
    }

    /** Before memory stamped {@code stamp} takes a new layout: waits for a grace unless one since the stamp has ended. */
    void awaitGrace(long stamp) {
        if (stamp != 0 && gracesEnded.get() < stamp) {
            awaitChecks();
        }
    }

    /**
     * One wait for a check to exit. A check is a few loads, and a thread that frees remotely in a loop is inside one
     * about half the time, so spin first; yield only if it lasts (its thread was descheduled inside it).
     */
    static void awaitBriefly(int spins) {
        if (spins < 1_000) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    /** Whether the calling thread is inside a walk ({@code visitBlocks}, a dump): it holds the read side. */
    boolean inWalk() {
        return releaseLock.getReadHoldCount() > 0;
    }

    /** Marks the segment at {@code base} exposed (see the class comment); its block is live, so it is too. */
    static void expose(long base) {
        if (Raw.getInt(base + SEG_EXPOSED) == 0) { // written once: the header line stays shared
            Raw.putInt(base + SEG_EXPOSED, 1);
        }
    }

    /** Is {@code base} the header of a live segment of this allocator? */
    boolean cookieMatches(long base) {
        return Raw.getLong(base + SEG_COOKIE) == (base ^ cookie);
    }

    /**
     * A formatted normal segment of {@code kind}, owned by {@code heapId} (of heap tag {@code tag}) on thread
     * {@code ownerTid}.
     */
    long newSegment(Kind kind, int heapId, long ownerTid, boolean arena, int tag) {
        Cached cached = takeCached();
        if (cached != null) {
            awaitGrace(cached.grace); // a checked free that proved a block of it before its release may still write
        }
        Segment segment = cached != null ? cached.segment : reserveWithinLimit(0);
        boolean exposed = arena || (cached != null && cached.exposed);
        int pageCount = (int) (segmentSize >>> kind.pageShift);
        long meta = metadataSize(pageCount);
        try {
            commit(segment, 0, meta);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (cached != null && cached.exposed) {
                synchronized (this) {
                    cached.purged = false; // counted again below, and purged by the next purge pass (no grace)
                    cache.push(cached);
                    unpurgedCached++;
                }
            } else {
                if (cached != null) {
                    awaitChecks(); // it was in the map before it was cached
                }
                space.release(segment);
            }
            throw e;
        }
        long base = segment.base();
        Raw.fill(base, meta, (byte) 0);
        Raw.putLong(base + SEG_OWNER_TID, ownerTid);
        Raw.putLong(base + SEG_SIZE, segmentSize);
        Raw.putInt(base + SEG_KIND, kind.ordinal());
        Raw.putInt(base + SEG_PAGE_SHIFT, kind.pageShift);
        Raw.putInt(base + SEG_PAGE_COUNT, pageCount);
        Raw.putInt(base + SEG_HEAP_ID, heapId);
        Raw.putInt(base + SEG_ARENA, arena ? 1 : 0);
        Raw.putInt(base + SEG_TAG, tag);
        Raw.putInt(base + SEG_EXPOSED, exposed ? 1 : 0);
        // Pages start at the one holding the metadata's end, unless less than half of that page is left after it
        // (small segments: 64 KiB + 128 B of metadata fill page 0, and page 1 starts 128 bytes late).
        int firstPage = (int) ((meta - 1) >>> kind.pageShift);
        if ((((long) firstPage + 1) << kind.pageShift) - meta < kind.pageSize() / 2) {
            firstPage++;
        }
        Raw.putInt(base + SEG_FIRST_PAGE, firstPage);
        Raw.putInt(base + SEG_NEXT_FREE_HINT, Raw.getInt(base + SEG_FIRST_PAGE));
        Raw.putLongRelease(base + SEG_COOKIE, base ^ cookie);
        register(segment, entry(base, ownerTid, heapId, arena));
        return base;
    }

    /**
     * A huge segment holding one block of {@code blockSize} bytes aligned to {@code alignment}; returns the segment
     * base. The block's page descriptor is formatted by the caller.
     *
     * <p>Segments start at multiples of the segment size, so an alignment up to it puts the block at the same offset
     * in any segment. A larger one puts it at the first multiple of the alignment past the header, an offset that
     * depends on where the segment lands and is at most the alignment: the segment reserves that much more address
     * space, and only the header and the block are committed.
     */
    long newHugeSegment(long blockSize, long alignment, int heapId, long ownerTid, boolean arena, int tag,
            boolean checked) {
        long header = metadataSize(1) + (checked ? 16 : 0);
        long blockAlignment = Math.max(alignment, 64);
        long worstOffset = blockAlignment <= segmentSize ? align(header, blockAlignment) : blockAlignment;
        long worstTotal = worstOffset + blockSize;
        if (worstTotal < 0 || worstTotal > SegmentSpace.ADDRESS_SPACE_LIMIT / 2) {
            throw Errors.hugeSegmentTooLarge(blockSize, worstOffset);
        }
        long reserveSize = align(worstTotal, segmentSize);
        ReusedHuge reused = takeReleasedHuge(reserveSize);
        if (reused != null) {
            awaitGrace(reused.grace()); // as in newSegment
        }
        Segment segment = reused != null ? reused.segment() : reserveWithinLimit(reserveSize);
        boolean exposed = arena || (reused != null && reused.exposed());
        reserveSize = segment.size(); // a reused one may be bigger: the header says what is mapped
        long blockOffset = align(segment.base() + header, blockAlignment) - segment.base(); // <= worstOffset
        try {
            commit(segment, 0, header); // and the block: the gap an alignment leaves between them stays uncommitted
            long from = blockOffset & -space.pageSize();
            commit(segment, from, align(blockOffset + blockSize, space.pageSize()) - from);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (reused != null && reused.exposed()) { // it stays mapped
                synchronized (this) {
                    retainedHuge.add(segment);
                }
            } else {
                if (reused != null) {
                    awaitChecks(); // it was in the map before it was cached
                }
                space.release(segment);
            }
            throw e;
        }
        long base = segment.base();
        Raw.fill(base, header, (byte) 0);
        Raw.putLong(base + SEG_OWNER_TID, ownerTid);
        Raw.putLong(base + SEG_SIZE, reserveSize);
        Raw.putInt(base + SEG_KIND, Kind.HUGE.ordinal());
        Raw.putInt(base + SEG_PAGE_SHIFT, Kind.HUGE.pageShift);
        Raw.putInt(base + SEG_PAGE_COUNT, 1);
        Raw.putInt(base + SEG_PAGE_END, 1);
        Raw.putInt(base + SEG_USED_PAGES, 1);
        Raw.putInt(base + SEG_HEAP_ID, heapId);
        Raw.putInt(base + SEG_ARENA, arena ? 1 : 0);
        Raw.putInt(base + SEG_TAG, tag);
        Raw.putInt(base + SEG_EXPOSED, exposed ? 1 : 0);
        Raw.putInt(base + SEG_ZEROED, reused == null || reused.zeroed() ? 1 : 0);
        long page = descriptor(base, 0);
        Raw.putLong(page + PAGE_START, base + blockOffset);
        Raw.putLong(page + RECIPROCAL, reciprocal(blockSize));
        Raw.putLong(page + LIVE_MAP, checked ? base + metadataSize(1) : 0); // one live and one remote word
        Raw.putInt(page + BLOCK_SIZE, (int) Math.min(blockSize, Integer.MAX_VALUE));
        Raw.putInt(page + RESERVED, 1);
        Raw.putInt(page + CAPACITY, 1);
        Raw.putInt(page + USED, 1);
        Raw.putInt(page + BIN, -1);
        Raw.putShort(page + FLAGS, (short) FLAG_HUGE);
        Raw.putInt(page + PAGE_HEAP, heapId);
        Raw.putLong(page + PAGE_OWNER, ownerTid);
        Raw.putLong(page + BLOCKS_BYTES, blockSize);
        Raw.putLongRelease(base + SEG_COOKIE, base ^ cookie);
        // any thread may free the block and release the segment: see MapEntry
        register(segment, MapEntry.of(segment.base(), NO_OWNER, shift));
        return base;
    }

    /** Makes {@code [offset, offset + length)} of the segment at {@code base} usable, within the commit limit. */
    void commit(long base, long offset, long length) {
        commit(segmentAt(base), offset, length);
    }

    /** Returns the memory of page {@code page} (a descriptor of {@code segment}) to the OS, metadata excepted. */
    void purgePage(long segment, long page) {
        int pageShift = Raw.getInt(segment + SEG_PAGE_SHIFT);
        int index = pageIndex(segment, page);
        long areaStart = Math.max(segment + ((long) index << pageShift),
                segment + metadataSize(Raw.getInt(segment + SEG_PAGE_COUNT)));
        long areaEnd = segment + ((long) (index + 1) << pageShift);
        purge(segment, areaStart - segment, areaEnd - areaStart);
    }

    void purge(long base, long offset, long length) {
        long pageSize = space.pageSize();
        long start = align(offset, pageSize);
        long end = (offset + length) & -pageSize;
        if (end > start) {
            space.purge(segmentAt(base), start, end - start);
        }
    }

    /** Unregisters the segment at {@code base} and gives it back (normal ones through the cache). */
    void release(long base) {
        // Gone at once for every checked proof and every walk, though a walk may hold the rest back: an arena's
        // segments go back with blocks in use, which proved live until then (a free of one from the arena's thread
        // threw a NullPointerException, its heap being gone).
        // A second release of a segment is a bug of ours, caught here where it happens: queued, it would give back
        // whatever segment reuses the base by then (from the cache, at once), and fail far from the cause. The
        // header is read only while the base is live (mapped); a stale release after reuse goes unseen.
        if (!live.containsKey(key(base)) || givenBack(base)) {
            throw new IllegalStateException("Cairn internal error: segment 0x" + Long.toHexString(base)
                    + " released twice");
        }
        Raw.putLongRelease(base + SEG_COOKIE, 0);
        releasesAfterWalk.add(base); // see releasesAfterWalk
        if (!inWalk()) {
            drainReleases();
        }
    }

    private void releaseLocked(long base) {
        Segment segment = live.remove(key(base));
        if (segment == null) {
            throw new IllegalStateException("Cairn internal error: segment 0x" + Long.toHexString(base) + " not live");
        }
        map.remove(base, segment.size());
        boolean exposed = Raw.getInt(base + SEG_EXPOSED) != 0 && !closing; // closing: every scope has ended
        // By kind, not size: a huge block of up to about a segment gets a huge segment of exactly segmentSize.
        boolean huge = Raw.getInt(base + SEG_KIND) == Kind.HUGE.ordinal();
        Raw.putLongRelease(base + SEG_COOKIE, 0); // a racing checked free now sees a foreign header
        if (!huge) {
            boolean purgeNow = purgeDelayNanos <= 0;
            if (purgeNow) {
                space.purge(segment, 0, segmentSize);
            }
            // Outside the monitor: a walk of the segment's commit units. The store's total includes this segment.
            long resident = purgeNow || purgeDelayNanos > Long.MAX_VALUE / (2 * CACHE_GRACE_DELAYS)
                    ? 0 : space.committedBytes(segment);
            long budget = cacheGraceBudget();
            synchronized (this) {
                if (exposed || cache.size() < CACHE_LIMIT) {
                    long graced = resident != 0 && cacheGracedBytes + resident <= budget ? resident : 0;
                    long purgeAt = System.nanoTime() + (graced != 0 ? CACHE_GRACE_DELAYS : 1) * purgeDelayNanos;
                    Cached cached = new Cached(segment, purgeAt, exposed, graceStamp(), graced);
                    cacheGracedBytes += graced;
                    cached.purged = purgeNow;
                    cache.push(cached);
                    if (!purgeNow) {
                        unpurgedCached++;
                    }
                    return;
                }
            }
        } else if (!closing) {
            boolean purgeNow = exposed || purgeDelayNanos <= 0 || segment.size() > HUGE_DELAYED_PURGE_MAX * segmentSize;
            if (purgeNow) {
                space.purge(segment, 0, segment.size());
            }
            Cached evicted = null;
            synchronized (this) {
                if (exposed) {
                    retainedHuge.add(segment);
                    retainedHugeGrace = graceStamp();
                } else {
                    Cached cached = new Cached(segment, System.nanoTime() + purgeDelayNanos, false, graceStamp());
                    cached.purged = purgeNow;
                    cachedHuge.push(cached);
                    if (!purgeNow) {
                        unpurgedCached++;
                    }
                    if (cachedHuge.size() > CACHE_LIMIT) {
                        evicted = cachedHuge.pollLast();
                        if (!evicted.purged) {
                            unpurgedCached--;
                        }
                    }
                }
            }
            if (evicted != null) {
                awaitChecks(); // it was in the map before it was cached
                space.release(evicted.segment);
            }
            return;
        }
        awaitChecks();
        space.release(segment);
    }

    /**
     * A released huge segment for a block needing {@code size} bytes, or {@code null}: the smallest exposed one of
     * at least that size (reusing them is what bounds their address space), else the smallest cached one of at
     * least that size and at most twice it.
     */
    private synchronized ReusedHuge takeReleasedHuge(long size) {
        Segment best = null;
        for (Segment candidate : retainedHuge) {
            if (candidate.size() >= size && (best == null || candidate.size() < best.size())) {
                best = candidate;
            }
        }
        if (best != null) {
            retainedHuge.remove(best);
            // a stale MemorySegment may have written it since its purge
            return new ReusedHuge(best, true, false, retainedHugeGrace);
        }
        Cached bestCached = null;
        for (Cached candidate : cachedHuge) {
            long candidateSize = candidate.segment.size();
            if (candidateSize >= size && candidateSize / 2 <= size
                    && (bestCached == null || candidateSize < bestCached.segment.size())) {
                bestCached = candidate;
            }
        }
        if (bestCached != null) {
            cachedHuge.remove(bestCached);
            if (!bestCached.purged) {
                unpurgedCached--;
            }
            return new ReusedHuge(bestCached.segment, false, bestCached.purged && purgeZeroes(bestCached.segment),
                    bestCached.grace);
        }
        return null;
    }

    /**
     * Whether a purge leaves {@code segment}'s memory reading as zeros: {@code MADV_DONTNEED} on OS pages does;
     * {@code MADV_FREE} may keep the contents, and always-committed backings (explicit huge pages, the JDK arena)
     * ignore purges.
     */
    private boolean purgeZeroes(Segment segment) {
        return !segment.backing().alwaysCommitted()
                && space.config().purgeMode() == dev.cairn.segments.SegmentConfig.PurgeMode.DONTNEED;
    }

    /**
     * Zeroes {@code [address, address + size)}, a block of the huge segment at {@code base}, by purging the commit
     * units it covers whole and writing zeros only around them; false, touching nothing, where a purge does not
     * leave zeros ({@link #purgeZeroes}) or the segment is not a huge one.
     */
    boolean zeroByPurge(long base, long address, long size) {
        if (base == AddressMap.NOT_OURS || Raw.getInt(base + SEG_KIND) != Kind.HUGE.ordinal()) {
            return false;
        }
        Segment segment = segmentAt(base);
        if (!purgeZeroes(segment)) {
            return false;
        }
        long unit = space.config().commitUnit();
        long start = align(address, unit);
        long end = (address + size) & -unit;
        if (end <= start) {
            return false;
        }
        Raw.fill(address, start - address, (byte) 0);
        space.reset(segment, start - base, end - start); // the block stays in use: its memory stays committed
        Raw.fill(end, address + size - end, (byte) 0);
        return true;
    }

    /** Bytes of this store's segments (live and cached) resident in RAM now ({@code mincore}; tests, tools). */
    long residentBytes() {
        releaseLock.readLock().lock();
        try {
            long resident = 0;
            for (Segment segment : live.values()) {
                resident += dev.cairn.segments.ProcessMemory.residentBytes(segment);
            }
            synchronized (this) {
                for (Cached cached : cache) {
                    resident += dev.cairn.segments.ProcessMemory.residentBytes(cached.segment);
                }
                for (Cached cached : cachedHuge) {
                    resident += dev.cairn.segments.ProcessMemory.residentBytes(cached.segment);
                }
            }
            return resident;
        } finally {
            releaseLock.readLock().unlock();
        }
    }

    /** Gives back the cache (collect): unmaps the segments that were never exposed, purges the exposed ones. */
    void trimCache() {
        unmapCache(false);
    }

    /** Unmaps the cached segments, exposed ones too when {@code all} (close); purges the exposed ones it keeps. */
    private void unmapCache(boolean all) {
        List<Segment> unmap = new java.util.ArrayList<>();
        synchronized (this) {
            for (Cached cached : cachedHuge) {
                unmap.add(cached.segment);
                if (!cached.purged) {
                    unpurgedCached--;
                }
            }
            cachedHuge.clear();
            for (java.util.Iterator<Cached> it = cache.iterator(); it.hasNext(); ) {
                Cached cached = it.next();
                forgetGrace(cached);
                if (!cached.exposed || all) {
                    it.remove();
                    unmap.add(cached.segment);
                } else if (!cached.purged) {
                    space.purge(cached.segment, 0, segmentSize);
                } else {
                    // A MemorySegment kept past its free may have written (RAM) or read (zero pages, which mincore
                    // counts) it since the purge: collect() gives back everything free now.
                    space.discardPurged(cached.segment, 0, segmentSize);
                    continue;
                }
                if (!cached.purged) {
                    cached.purged = true;
                    unpurgedCached--;
                }
            }
        }
        if (!unmap.isEmpty()) {
            awaitChecks();
        }
        unmap.forEach(space::release);
    }

    /**
     * Purges the cached segments whose delay has passed (from the heaps' slow paths). Under the monitor, so a
     * segment is never purged after {@link #takeCached} handed it out.
     */
    void purgeExpiredCache(long now) {
        // One purger at a time, and the others go on: every slow path calls this, and waiting on the monitor while
        // another thread madvises a whole segment under it was 35 waits and 1.1 s in one 8-thread rptest run (JFR)
        if (unpurgedCached == 0 || !cachePurging.compareAndSet(false, true)) {
            return;
        }
        try {
            synchronized (this) {
                for (Cached cached : cache) {
                    purgeIfExpired(cached, now);
                }
                for (Cached cached : cachedHuge) {
                    purgeIfExpired(cached, now);
                }
            }
        } finally {
            cachePurging.set(false);
        }
    }

    /** Set while a slow path purges expired cached segments ({@link #purgeExpiredCache}). */
    private final java.util.concurrent.atomic.AtomicBoolean cachePurging = new java.util.concurrent.atomic.AtomicBoolean();

    private void purgeIfExpired(Cached cached, long now) {
        if (!cached.purged && cached.purgeAt - now <= 0) {
            space.purge(cached.segment, 0, cached.segment.size());
            cached.purged = true;
            unpurgedCached--;
            forgetGrace(cached);
        }
    }

    /**
     * The most committed bytes of released segments the cache keeps for {@link #CACHE_GRACE_DELAYS} purge delays
     * instead of one: half of what the allocator has committed now, and at least a quarter segment. Past it a
     * released segment is purged after one delay, so what the longer wait holds stays in proportion to what the
     * allocator holds anyway.
     */
    private long cacheGraceBudget() {
        return Math.max(segmentSize / 4, space.stats().committedBytes() / 2);
    }

    /**
     * Keeps the cache's longer wait from raising the allocator's peak of committed bytes: a commit of {@code more}
     * bytes that would pass the peak first purges graced cached segments, oldest first (the newest are the likeliest
     * to be taken next), for as many bytes as it would pass it by. A graced segment then holds only memory the
     * allocator had committed anyway: larson with churn, whose emptied segments were kept while its threads carved
     * new pages, peaked at up to 1.62x its live data instead of 1.54x (docs/benchmarks.md, "Released segments kept
     * ten purge delays").
     */
    private void purgeGracedBelowPeak(long more) {
        dev.cairn.segments.SegmentStats stats = space.stats();
        long over = stats.committedBytes() + more - stats.peakCommittedBytes();
        if (over <= 0) {
            return;
        }
        synchronized (this) {
            for (java.util.Iterator<Cached> it = cache.descendingIterator(); over > 0 && it.hasNext(); ) {
                Cached cached = it.next();
                if (cached.graced != 0 && !cached.purged) {
                    over -= cached.graced;
                    space.purge(cached.segment, 0, cached.segment.size());
                    cached.purged = true;
                    unpurgedCached--;
                    forgetGrace(cached);
                }
            }
        }
    }

    /** A cached segment leaves the longer wait (purged, taken or unmapped); under the monitor. */
    private void forgetGrace(Cached cached) {
        cacheGracedBytes -= cached.graced;
        cached.graced = 0;
    }

    /** Released segments kept mapped for reuse: the cache and the retained exposed huge segments. */
    synchronized int cachedSegments() {
        return cache.size() + retainedHuge.size() + cachedHuge.size();
    }

    /** The most recently cached segment (the likeliest to be resident still), or {@code null}. */
    private synchronized Cached takeCached() {
        Cached cached = cache.poll();
        if (cached != null && !cached.purged) {
            unpurgedCached--;
            forgetGrace(cached);
        }
        return cached;
    }

    private void register(Segment segment, long entry) {
        live.put(key(segment.base()), segment);
        map.insert(segment.base(), segment.size(), entry);
    }

    /**
     * The map entry of a normal segment of heap {@code heapId} on thread {@code ownerTid}: a virtual threads' heap
     * ({@link SegmentLayout#SHARED_OWNER}, not an arena's) is named by its id, whose lock makes its holder the owner.
     */
    private long entry(long base, long ownerTid, int heapId, boolean arena) {
        return ownerTid == SHARED_OWNER && !arena ? MapEntry.ofSharedHeap(base, heapId, shift)
                : MapEntry.of(base, ownerTid, shift);
    }

    /**
     * Moves the normal segment at {@code base} to heap {@code heapId} on thread {@code ownerTid}
     * ({@link SegmentLayout#SHARED_OWNER}: a virtual threads' heap; {@link SegmentLayout#NO_OWNER} when abandoned,
     * with any heap id): its header, then its map entry, which a checked free of the new owner trusts (see
     * MapEntry). Called by the thread that takes the segment, or by the one that gives it up. Arena heaps never
     * adopt.
     */
    void setOwner(long base, long ownerTid, int heapId) {
        Raw.putLongVolatile(base + SEG_OWNER_TID, ownerTid);
        map.replace(base, segmentSize, entry(base, ownerTid, heapId, false));
    }

    /** The base of the segment holding {@code address}, or {@code AddressMap.NOT_OURS} (0). */
    long segmentOf(long address) {
        long entry = map.lookup(address);
        return entry == AddressMap.NOT_OURS ? AddressMap.NOT_OURS : MapEntry.base(entry, shift);
    }

    int shift() {
        return shift;
    }

    /**
     * The key of the segment at {@code base} in {@link #live}, and in every other map of segments (the abandoned
     * pool's): its index (bases are aligned to the segment size).
     */
    Long key(long base) {
        return base >>> shift;
    }

    private Segment segmentAt(long base) {
        Segment segment = live.get(key(base));
        if (segment == null) {
            // What the state around it was, for a failure that cannot be replayed (seen once, in a torture run's
            // heap dump, under the pin that should hold every release back).
            throw new IllegalStateException("Cairn internal error: segment 0x" + Long.toHexString(base)
                    + " not live (this thread's walks " + releaseLock.getReadHoldCount() + ", all walks "
                    + releaseLock.getReadLockCount() + ", release lock held " + releaseLock.isWriteLocked()
                    + ", queued for release " + releasesAfterWalk.contains(base) + ", closing " + closing + ")");
        }
        return segment;
    }

    private void commit(Segment segment, long offset, long length) {
        long pageSize = space.pageSize();
        long start = offset & -pageSize;
        long end = align(offset + length, pageSize);
        if (space.isCommitted(segment, start, end - start)) {
            return;
        }
        if (cacheGracedBytes != 0) {
            purgeGracedBelowPeak(end - start);
        }
        if (commitLimit == 0) {
            space.commit(segment, start, end - start);
            return;
        }
        synchronized (commitLimitLock) { // threads that passed the check together would commit past the limit
            checkCommitLimit(segment, start, end);
            space.commit(segment, start, end - start);
        }
    }

    private void checkCommitLimit(Segment segment, long start, long end) {
        if (space.stats().committedBytes() + (end - start) > commitLimit) {
            // Count only what is not committed yet (a reused segment may hold part of the range already). Released
            // segments count until they are unmapped: unmap the ones nobody can see, and do not count the exposed
            // ones kept only so that stale MemorySegments read mapped memory (purged, not in use).
            long more = (end - start) - committedBytes(segment, start, end);
            if (space.stats().committedBytes() + more > commitLimit) {
                trimCache();
                if (space.stats().committedBytes() - retainedCommittedBytes() + more > commitLimit) {
                    throw new OutOfMemoryError("Cairn: committing " + more + " more bytes would pass the"
                            + " allocator's limit of " + commitLimit
                            + " committed bytes (AllocatorConfig.commitLimit)");
                }
            }
        }
    }

    /**
     * A new segment from the OS: a normal one, or a huge one of {@code hugeSize} bytes. One that comes committed
     * whole (explicit huge pages, the arena backend) is committed memory that {@link #commit} then finds committed
     * already and never checks: with a limit, it is checked here, as it is reserved.
     */
    private Segment reserveWithinLimit(long hugeSize) {
        if (commitLimit == 0) {
            return hugeSize == 0 ? space.reserve() : space.reserveHuge(hugeSize);
        }
        synchronized (commitLimitLock) {
            Segment segment = hugeSize == 0 ? space.reserve() : space.reserveHuge(hugeSize);
            if (segment.backing().alwaysCommitted() && space.stats().committedBytes() > commitLimit) {
                trimCache();
                if (space.stats().committedBytes() - retainedCommittedBytes() > commitLimit) {
                    space.release(segment); // never registered: no check can be reading it
                    throw new OutOfMemoryError("Cairn: a segment of " + segment.size() + " bytes committed whole ("
                            + segment.backing() + " backing) would pass the allocator's limit of " + commitLimit
                            + " committed bytes (AllocatorConfig.commitLimit)");
                }
            }
            return segment;
        }
    }

    /** Committed bytes of the released exposed segments kept mapped (the commit limit's slow path only). */
    private synchronized long retainedCommittedBytes() {
        long bytes = 0;
        for (Cached cached : cache) {
            if (cached.exposed) {
                bytes += committedBytes(cached.segment, 0, cached.segment.size());
            }
        }
        for (Segment segment : retainedHuge) {
            bytes += committedBytes(segment, 0, segment.size());
        }
        return bytes;
    }

    /** Committed bytes of {@code [from, to)} of a segment, by commit unit (the commit limit's slow path only). */
    private long committedBytes(Segment segment, long from, long to) {
        long unit = space.config().commitUnit();
        long bytes = 0;
        for (long offset = from & -unit; offset < to; offset += unit) {
            long length = Math.min(unit, segment.size() - offset);
            if (space.isCommitted(segment, offset, length)) {
                bytes += Math.min(offset + length, to) - Math.max(offset, from);
            }
        }
        return bytes;
    }
}
