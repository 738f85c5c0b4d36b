package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.segments.raw.Raw;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The allocator's pool of abandoned segments: normal segments that still hold live blocks but whose heap is gone
 * (released, or its thread died). The pool belongs to one allocator (the domain), so a segment never leaves it: only
 * heaps of the same allocator adopt from it, and only this allocator's store releases its segments. Within the
 * allocator, a segment keeps its heap tag ({@code SEG_TAG}) while pooled and is adopted only by a heap of that tag.
 *
 * <h2>Who may touch an abandoned segment</h2>
 * A normal segment is always in exactly one of three states, and only its holder reads or writes its page lists,
 * {@code USED} counters and queue links:
 * <ol>
 *   <li><b>owned</b> by a heap ({@code SEG_OWNER_TID} is the heap's thread, or {@link SegmentLayout#SHARED_OWNER});
 *   <li><b>pooled</b>: in {@link #entries}, held by nobody; {@code SEG_OWNER_TID} is {@link SegmentLayout#NO_OWNER};
 *   <li><b>held</b> by the one thread that took it out of the pool (under {@link #lock}) or that is abandoning it:
 *       the abandoning heap's thread, the thread reaping a dead heap, a sweeper, or an adopting heap.
 * </ol>
 * Remote frees need no state: they only push onto {@code XTHREAD_FREE} with a CAS, whatever the state.
 *
 * <p>These are the states of the segment's own pages. With the page pool ({@link PagePool}) a page of the segment
 * may belong to another heap or to that pool ({@code PAGE_OWNER}): {@code settle} leaves it alone (its segment stays
 * mapped while it holds a size class), and takes a pooled one back into the segment.
 *
 * <h2>The tag</h2>
 * While a segment is pooled, every page's {@code XTHREAD_FREE} carries {@link SegmentLayout#ABANDONED_TAG}. The
 * holder sets or clears it with the same swap that takes the page's remote list ({@link Pages#collectExclusive}), so
 * a remote free either lands before the swap (and is collected by the holder) or sees the tag after it. A free that
 * sees the tag ({@code AllocatorImpl.pushAbandoned}) first increments the segment's {@code SEG_ABANDONED_FREES}, then
 * pushes; when that count reaches {@code SEG_ABANDONED_LIVE} (the blocks in use when the segment was last settled)
 * it asks the pool to sweep the segment. The count is only a trigger: races with a sweep can make it high (a
 * harmless early sweep) or low (a late one), and releasing is decided by the sweep alone, after it has collected
 * every list and found no block in use. Every pool-wide sweep ({@code collect()}, and at most once per purge delay
 * from the abandoned-free path, which reads the clock every 64th abandoned free) catches what a late trigger missed.
 *
 * <h2>Why a freer never touches a released segment</h2>
 * The freer reads the counters and increments before its CAS publishes the block, while the block is still in use,
 * so the segment cannot be released yet; after the CAS it only calls {@link #trySweep} with the base address, which
 * looks the base up in {@link #entries} and touches nothing if it is not pooled.
 *
 * <h2>Which segment a heap adopts</h2>
 * A dead thread's blocks are often freed afterwards by one live thread: the one that took over its work (larson's
 * successor, a replacement worker). That thread should adopt the segment, so that its frees become local and it
 * reuses the room they make. If another heap adopts it first, because it wanted room in a bin the segment has room
 * in, every free of the taker-over stays remote and it maps pages of its own (docs/benchmarks.md, "Adoption by the
 * thread that frees into a segment"). So a pooled segment carries a hint, {@code SEG_LAST_FREER}:
 * <ul>
 *   <li>at abandonment, the winner of a weighted majority vote (Boyer-Moore) over the remote frees collected then,
 *       each page's frees counted for its last remote freer (each page keeps that id, written before the push): the
 *       winner if its final margin is at least half of the frees (a clear lead), else {@code MANY_FREERS};
 *       {@code NO_FREER} when none were waiting;
 *   <li>while pooled, each free into it: the first freer if it had none, {@code MANY_FREERS} at a second one.
 * </ul>
 * {@link #take} prefers a segment the taking thread frees into, then one with room in the bin asked for. A heap that
 * only wants room in a bin (it could still carve a page of its own) skips, for {@link #reserveNanos} after its
 * abandonment, a segment that nobody or one other thread frees into, unless that thread has a heap that never
 * allocated ({@code AllocatorImpl.mayAdopt}: a thread that only frees never adopts). A heap about to map a new
 * segment skips nothing, and past the reservation nothing is held back, so no segment waits for a thread that does
 * not come. The hint is read and written with plain accesses and may be stale: a wrong hint costs locality, never
 * correctness (a segment is still taken only under {@link #lock}).
 */
final class AbandonedPool {

    /** What the pool knows of a pooled segment without reading it (for choosing one to adopt). */
    private record Entry(long base, int kind, int tag, long binsWithRoom, boolean hasUnusedPages,
                         long purgeDeadline, long gracedBytes) {
        /** Index into {@link #pooledByTagKind}. */
        int slot() {
            return AbandonedPool.slot(tag, kind);
        }
    }

    private static int slot(int tag, int kind) {
        return tag * KINDS + kind;
    }

    private static final int KINDS = Kind.values().length;
    /**
     * A pooled segment's unused page stays committed this many purge delays after it was emptied, within the pool's
     * budget ({@link #settle}, "Purging").
     */
    private static final int POOLED_PURGE_MULTIPLIER = 10;

    private final SegmentStore store;
    private final PagePool pagePool;
    private final long sweepIntervalNanos;
    /** How long a newly abandoned segment waits for the thread that frees into it before others may adopt it. */
    private final long reserveNanos;
    /** Whether a thread may adopt what it frees into (AllocatorImpl.mayAdopt): the reservation is kept only for those. */
    private final java.util.function.LongPredicate mayAdopt;
    private final long purgeDelayNanos;
    /** How much longer than a heap a pooled segment keeps an unused page committed (see {@link #settle}). */
    private final long pooledGraceNanos;
    /** The most bytes of unused pages the pool keeps committed past their own deadlines: a quarter segment. */
    private final long graceBudgetBytes;
    /** Bytes of unused pages pooled segments keep past their own deadlines ({@link Entry#gracedBytes}, summed). */
    private volatile long gracedBytes;
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * Pooled segments by segment index ({@link SegmentStore#key}; by base, aligned bases would share a few tree bins: see
     * {@code SegmentStore.live}), oldest first (guarded by {@link #lock}).
     */
    private final LinkedHashMap<Long, Entry> entries = new LinkedHashMap<>();
    /** Pooled segments per tag and kind, readable without the lock (a hint for the allocation slow path). */
    private final int[] pooledByTagKind = new int[dev.cairn.alloc.Allocator.HEAP_TAGS * KINDS];
    private volatile int pooled;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile long lastSweepNanos = System.nanoTime();
    /** The earliest purge deadline of a pooled segment's unused page, 0 if none (may be stale early: a hint). */
    private volatile long earliestPurge;

    private final LongAdder abandoned = new LongAdder();
    private final LongAdder reclaimed = new LongAdder();
    private final LongAdder released = new LongAdder();
    /** Remote frees collected while segments changed hands (abandon, sweep, adopt). */
    private final LongAdder collectedRemote = new LongAdder();

    AbandonedPool(SegmentStore store, PagePool pagePool, long purgeDelayNanos,
            java.util.function.LongPredicate mayAdopt) {
        this.store = store;
        this.pagePool = pagePool;
        this.mayAdopt = mayAdopt;
        this.purgeDelayNanos = purgeDelayNanos;
        // Past a sixteenth of the range the delay outlasts any run already: no grace, and no overflow.
        this.pooledGraceNanos = purgeDelayNanos <= Long.MAX_VALUE / 16
                ? (POOLED_PURGE_MULTIPLIER - 1) * purgeDelayNanos : 0;
        this.graceBudgetBytes = store.segmentSize() / 4;
        this.sweepIntervalNanos = Math.max(purgeDelayNanos, 1_000_000);
        this.reserveNanos = sweepIntervalNanos;
    }

    // ------------------------------------------------------------------------------------------------ abandon

    /**
     * Abandons a segment its caller holds (its heap is being released or reaped): every page is collected and
     * tagged, emptied pages are unformatted and purged, and the segment is released if nothing in it is in use, else
     * pooled. The caller has already stopped every free of its own from taking the local path.
     */
    void abandon(long segment) {
        long from = Raw.getLong(segment + SEG_OWNER_TID);
        store.setOwner(segment, NO_OWNER, 0);
        Raw.putInt(segment + SEG_HEAP_ID, 0);
        Raw.putLong(segment + SEG_ABANDONED_AT, System.nanoTime());
        Raw.putLong(segment + SEG_LAST_FREER, NO_FREER);
        abandoned.increment();
        settleAndPark(segment, false, from, true);
    }

    /**
     * Settles a held segment with its lists tagged, then releases or pools it; {@code purgeAll} purges its unused
     * pages now instead of at their deadlines; {@code abandoning}: its heap has just given it up, and the pages that
     * heap retired may get the pool's grace ({@link #settle}, "Purging").
     */
    private void settleAndPark(long segment, boolean purgeAll, long fromTid, boolean abandoning) {
        for (int attempt = 0; ; attempt++) {
            long freesBefore = Raw.getLongVolatile(segment + SEG_ABANDONED_FREES);
            boolean first = attempt == 0;
            Entry entry = settle(segment, true, purgeAll, first ? fromTid : NO_OWNER, first && abandoning);
            if (entry == null) {
                released.increment();
                store.release(segment);
                return;
            }
            Raw.getAndAddLong(segment + SEG_ABANDONED_FREES, -freesBefore);
            // Frees that saw the tag while we settled may already have reached the new live count: look again.
            if (attempt == 2
                    || Raw.getLongVolatile(segment + SEG_ABANDONED_FREES) < Raw.getLong(segment + SEG_ABANDONED_LIVE)) {
                put(entry);
                return;
            }
        }
    }

    /**
     * Lowers the segment's {@code SEG_PAGE_END} past the pages at its end that neither hold a size class nor await a
     * purge (a settle has just given them up or purged them), so that the next walks stop sooner.
     */
    private static void lowerPageEnd(long segment, int end) {
        int first = Raw.getInt(segment + SEG_FIRST_PAGE);
        while (end > first) {
            long page = descriptor(segment, end - 1);
            if (Raw.getInt(page + BLOCK_SIZE) != 0 || (Raw.getShort(page + FLAGS) & FLAG_PURGE_PENDING) != 0) {
                break;
            }
            end--;
        }
        Raw.putInt(segment + SEG_PAGE_END, end);
    }

    /**
     * Collects every page of a held segment (leaving the tag when {@code tagged}, clearing it otherwise), clears the
     * pages' queue links and flags, and unformats the pages with no block in use. Returns the pool entry describing
     * what is left, or {@code null} when no page is in use any more.
     *
     * <p>Purging: an unused page (emptied here, or retired by the last owner, whose purge queue is dropped when it
     * gives the segment up) stays committed, marked {@code FLAG_PURGE_PENDING} with its deadline (a purge delay after
     * it was emptied), until the pool purges it ({@link #purgeExpired}, or whoever settles the segment next) or a heap
     * adopts the segment. {@code purgeAll} and a zero purge delay purge at once. Under thread churn a dead thread's
     * segment is adopted within milliseconds by the thread that took over its blocks, and pages purged on the way are
     * faulted in again for the next generation's pages: purging at abandonment, as first written, cost a fifth to a
     * third of a larson child's page faults, and purging at the pages' deadlines still cost larson with churn a fifth
     * of its time (docs/benchmarks.md, "Pooled pages kept for ten purge delays, within a budget"). So a pooled
     * segment's unused page gets a grace, once: its deadline moves to {@link #POOLED_PURGE_MULTIPLIER} purge delays
     * after it was emptied, granted when its segment is abandoned (the pages its heap retired) or when a settle
     * empties it, as long as the pool's graced pages stay within {@link #graceBudgetBytes} (so the memory this holds
     * is bounded by bytes as well as by time; concurrent settles may overshoot by what they grant at once). mimalloc
     * does not purge an abandoned segment at all until it is reclaimed. An adopter takes the pages still pending onto
     * its own purge queue ({@code HeapImpl.enqueueAdopted}) with one purge delay from the adoption (graced or not),
     * where its next fresh pages reuse them.
     * Nothing is purged page by page when nothing is left: the caller releases the whole segment in one call (page
     * by page first cost a thread that reaps a dead heap about 20 {@code madvise} calls per segment:
     * docs/benchmarks.md, "What a new thread pays").
     */
    private Entry settle(long segment, boolean tagged, boolean purgeAll, long fromTid, boolean abandoning) {
        long newOwner = Raw.getLong(segment + SEG_OWNER_TID);
        int newHeap = Raw.getInt(segment + SEG_HEAP_ID);
        int count = Raw.getInt(segment + SEG_PAGE_COUNT);
        int end = Raw.getInt(segment + SEG_PAGE_END);
        int usedPages = Raw.getInt(segment + SEG_USED_PAGES);
        long live = 0;
        long binsWithRoom = 0;
        long[] toPurge = new long[8];
        int purges = 0;
        long now = System.nanoTime();
        boolean purgeNow = purgeAll || purgeDelayNanos == 0;
        long pageSize = 1L << Raw.getInt(segment + SEG_PAGE_SHIFT);
        long graced = 0; // bytes of this segment's unused pages kept past their own deadline
        long graceRoom = tagged ? graceBudgetBytes - gracedBytes : 0;
        long earliest = 0;
        long freer = NO_FREER; // the thread that freed most into the pages collected now (a weighted majority vote)
        long votes = 0;
        long remoteFrees = 0;
        for (int index = Raw.getInt(segment + SEG_FIRST_PAGE); index < end; index++) {
            long page = descriptor(segment, index);
            if (Raw.getInt(page + BLOCK_SIZE) == 0) {
                if ((Raw.getShort(page + FLAGS) & FLAG_PURGE_PENDING) != 0) {
                    long deadline = Raw.getLong(page + PURGE_DEADLINE);
                    if (abandoning && pooledGraceNanos != 0 && !purgeNow && graced + pageSize <= graceRoom) {
                        deadline += pooledGraceNanos; // the grace: a page its heap retired (see "Purging")
                        Raw.putLong(page + PURGE_DEADLINE, deadline);
                    }
                    if (purgeNow || deadline - now <= 0) {
                        Raw.putShort(page + FLAGS, (short) 0);
                        toPurge = push(toPurge, purges++, page);
                    } else if (tagged) {
                        earliest = earlier(earliest, deadline);
                        if (deadline - now > purgeDelayNanos) {
                            graced += pageSize;
                        }
                    } else {
                        Raw.putLong(page + PURGE_DEADLINE, now + purgeDelayNanos); // the adopter's delay starts now
                    }
                }
                continue;
            }
            long pageOwner = Raw.getLong(page + PAGE_OWNER);
            if (pageOwner != fromTid && (!isPooled(pageOwner) || !pagePool.reclaim(page))) {
                continue; // another heap's page (PagePool): it keeps the segment, and comes back through the pool
            }
            int collected = Pages.collectExclusive(page, tagged);
            if (collected != 0) {
                collectedRemote.add(collected);
                remoteFrees += collected;
                long pageFreer = Raw.getInt(page + LAST_FREER); // a thread id's low 32 bits: ids stay below
                if (pageFreer == freer) {
                    votes += collected;
                } else if (votes <= collected) {
                    freer = pageFreer;
                    votes = collected - votes;
                } else {
                    votes -= collected;
                }
            }
            Raw.putLong(page + NEXT, 0);
            Raw.putLong(page + PREV, 0);
            Raw.putShort(page + FLAGS, (short) 0);
            Raw.putShort(page + RETAIN, (short) 0);
            int used = Raw.getInt(page + USED);
            if (used == 0 && Pages.mayUnformat(page)) { // else a claim is still out: kept for a later sweep
                Pages.unformat(segment, page, store.graceStamp());
                usedPages--;
                if (purgeNow) {
                    toPurge = push(toPurge, purges++, page);
                } else {
                    long deadline = now + purgeDelayNanos;
                    if (tagged && pooledGraceNanos != 0 && graced + pageSize <= graceRoom) {
                        deadline += pooledGraceNanos; // the grace: a page emptied while pooled (see "Purging")
                        graced += pageSize;
                    }
                    Raw.putLong(page + PURGE_DEADLINE, deadline);
                    Raw.putShort(page + FLAGS, (short) FLAG_PURGE_PENDING);
                    earliest = earlier(earliest, deadline);
                }
            } else {
                live += used;
                if (Pages.hasRoom(page)) {
                    binsWithRoom |= 1L << Raw.getInt(page + BIN);
                }
                Raw.putInt(page + PAGE_HEAP, newHeap);
                Raw.putLongRelease(page + PAGE_OWNER, newOwner);
            }
        }
        Raw.putInt(segment + SEG_USED_PAGES, usedPages);
        lowerPageEnd(segment, end);
        Raw.putLong(segment + SEG_ABANDONED_LIVE, live);
        if (tagged && remoteFrees != 0) {
            // one freer when the vote's winner kept a margin of half of all votes: a clear lead
            Raw.putLong(segment + SEG_LAST_FREER, 2 * votes >= remoteFrees ? freer : MANY_FREERS);
        }
        if (usedPages == 0) {
            return null; // released whole by the caller: no page-by-page purge first
        }
        for (int i = 0; i < purges; i++) {
            store.purgePage(segment, toPurge[i]);
        }
        boolean hasUnused = usedPages < count - Raw.getInt(segment + SEG_FIRST_PAGE);
        return new Entry(segment, Raw.getInt(segment + SEG_KIND), Raw.getInt(segment + SEG_TAG), binsWithRoom,
                hasUnused, earliest, graced);
    }

    /** The earlier of two deadlines, where 0 is none. */
    private static long earlier(long a, long b) {
        return a == 0 || (b != 0 && b - a < 0) ? b : a;
    }

    private static long[] push(long[] array, int index, long value) {
        if (index == array.length) {
            array = java.util.Arrays.copyOf(array, index * 2);
        }
        array[index] = value;
        return array;
    }

    // ------------------------------------------------------------------------------------------------ reclaim

    /** Whether a segment of {@code kind} and {@code tag} may be pooled (a racy hint, for the allocation slow path). */
    boolean mayHave(Kind kind, int tag) {
        return pooled != 0 && pooledByTagKind[slot(tag, kind.ordinal())] != 0;
    }

    /**
     * Takes a pooled segment of {@code kind} and {@code tag} for a heap that needs room in {@code bin}: one with a
     * page of that bin that has room, or, when {@code anyRoom}, one with an unused page. Returns its base, now held
     * by the caller, or 0.
     */
    long take(Kind kind, int tag, int bin, boolean anyRoom, long adopterTid) {
        lock.lock();
        try {
            Entry chosen = null;
            int chosenRank = -1;
            long now = System.nanoTime();
            for (Entry entry : entries.values()) {
                if (entry.kind != kind.ordinal() || entry.tag != tag) {
                    continue;
                }
                boolean room = (entry.binsWithRoom & (1L << bin)) != 0;
                if (!room && !(anyRoom && entry.hasUnusedPages)) {
                    continue;
                }
                // pooled, so mapped: reading its header under the lock is safe
                long freer = Raw.getLong(entry.base + SEG_LAST_FREER);
                boolean freeingInto = freer == adopterTid;
                if (!anyRoom && !freeingInto && freer != MANY_FREERS && (freer == NO_FREER || mayAdopt.test(freer))
                        && now - Raw.getLong(entry.base + SEG_ABANDONED_AT) < reserveNanos) {
                    continue; // reserved: see "Which segment a heap adopts"
                }
                int rank = (freeingInto ? 2 : 0) + (room ? 1 : 0);
                if (rank > chosenRank) {
                    chosen = entry;
                    chosenRank = rank;
                    if (rank == 3) {
                        break;
                    }
                }
            }
            if (chosen == null) {
                return 0;
            }
            removeLocked(chosen);
            return chosen.base;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Prepares a taken segment for its new heap: ownership moves to {@code heapId} on {@code ownerTid}, every list is
     * collected and untagged, empty pages are unformatted. Returns false (and releases the segment) when nothing in
     * it is in use any more; otherwise the caller queues its pages.
     */
    boolean adopt(long segment, int heapId, long ownerTid) {
        Raw.putInt(segment + SEG_HEAP_ID, heapId);
        store.setOwner(segment, ownerTid, heapId);
        if (settle(segment, false, false, NO_OWNER, false) == null) {
            released.increment();
            store.release(segment);
            return false;
        }
        reclaimed.increment();
        return true;
    }

    // ------------------------------------------------------------------------------------------------ sweep

    /** Sweeps the segment at {@code base} if it is pooled and the pool is free now; touches nothing otherwise. */
    void trySweep(long base) {
        Entry entry;
        if (!lock.tryLock()) {
            return;
        }
        try {
            entry = entries.get(store.key(base));
            if (entry == null) {
                return;
            }
            removeLocked(entry);
        } finally {
            lock.unlock();
        }
        settleAndPark(base, false, NO_OWNER, false);
    }

    /** A pool-wide sweep, at most once per sweep interval (from the abandoned-free path). */
    void maybeSweepAll() {
        if (System.nanoTime() - lastSweepNanos >= sweepIntervalNanos) {
            sweepAll(false);
        }
    }

    /** Whether a pooled segment may have an unused page whose purge deadline has passed (a racy hint). */
    boolean purgeDue(long now) {
        long earliest = earliestPurge;
        return earliest != 0 && earliest - now <= 0;
    }

    /**
     * Purges the unused pages whose deadline has passed in pooled segments (from the allocation slow path, when
     * {@link #purgeDue} says so): without it a pooled segment that nobody frees into or adopts would keep them
     * committed until {@code collect()}. Each due segment is taken out, settled (which purges) and parked again.
     */
    void purgeExpired(long now) {
        List<Long> held = new ArrayList<>();
        if (!lock.tryLock()) {
            return; // another thread is at the pool: the next slow path looks again
        }
        try {
            long earliest = 0;
            for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
                Entry entry = it.next();
                if (entry.purgeDeadline != 0 && entry.purgeDeadline - now <= 0) {
                    it.remove();
                    forgetLocked(entry);
                    held.add(entry.base);
                } else {
                    earliest = earlier(earliest, entry.purgeDeadline);
                }
            }
            pooled = entries.size();
            earliestPurge = earliest;
        } finally {
            lock.unlock();
        }
        for (long segment : held) {
            settleAndPark(segment, false, NO_OWNER, false);
        }
    }

    /**
     * Collects every pooled segment and releases those with no block in use (their last blocks were freed by other
     * threads); {@code purgeAll} (from {@code collect()}) also purges every unused page now. One sweeper at a time; a
     * concurrent call returns at once.
     */
    void sweepAll(boolean purgeAll) {
        if (!sweeping.compareAndSet(false, true)) {
            return;
        }
        try {
            lastSweepNanos = System.nanoTime();
            List<Long> held = new ArrayList<>();
            lock.lock();
            try {
                for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
                    Entry entry = it.next();
                    it.remove();
                    forgetLocked(entry);
                    held.add(entry.base);
                }
                pooled = 0;
                earliestPurge = 0; // every segment is parked again with its own deadline
            } finally {
                lock.unlock();
            }
            for (long segment : held) {
                settleAndPark(segment, purgeAll, NO_OWNER, false);
            }
        } finally {
            sweeping.set(false);
        }
    }

    // ------------------------------------------------------------------------------------------------ queries

    int size() {
        return pooled;
    }

    /** Whether {@code base} is pooled now (validation and tests). */
    boolean contains(long base) {
        lock.lock();
        try {
            return entries.containsKey(store.key(base));
        } finally {
            lock.unlock();
        }
    }

    /** The pooled segments' bases, oldest first (heap dumps). */
    long[] bases() {
        lock.lock();
        try {
            return entries.values().stream().mapToLong(entry -> entry.base).toArray();
        } finally {
            lock.unlock();
        }
    }

    long collectedRemoteFrees() {
        return collectedRemote.sum();
    }

    long abandonedCount() {
        return abandoned.sum();
    }

    long reclaimedCount() {
        return reclaimed.sum();
    }

    long releasedCount() {
        return released.sum();
    }

    /** Forgets every pooled segment (the allocator's close releases all segments itself). */
    void clear() {
        lock.lock();
        try {
            entries.clear();
            java.util.Arrays.fill(pooledByTagKind, 0);
            pooled = 0;
            gracedBytes = 0;
            earliestPurge = 0;
        } finally {
            lock.unlock();
        }
    }

    private void put(Entry entry) {
        lock.lock();
        try {
            entries.put(store.key(entry.base), entry);
            pooledByTagKind[entry.slot()]++;
            pooled = entries.size();
            gracedBytes += entry.gracedBytes;
            earliestPurge = earlier(earliestPurge, entry.purgeDeadline);
        } finally {
            lock.unlock();
        }
    }

    private void removeLocked(Entry entry) {
        entries.remove(store.key(entry.base));
        forgetLocked(entry);
        pooled = entries.size();
    }

    /** Counts out an entry just removed from {@link #entries} (the caller updates {@link #pooled}). */
    private void forgetLocked(Entry entry) {
        pooledByTagKind[entry.slot()]--;
        gracedBytes -= entry.gracedBytes;
    }
}
