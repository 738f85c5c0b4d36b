package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.alloc.internal.size.SizeClasses;
import dev.cairn.segments.raw.Raw;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The allocator's pool of single pages that no heap owns: full pages a thread heap gave up (beyond
 * {@link #FULL_RETAIN} per size class, or all of them while its thread has never freed into a full page of its own)
 * and pages of other heaps' segments that an ending heap had adopted. A heap that
 * needs room in a size class adopts one whose blocks other threads have freed since, before it carves a page of its
 * own: mimalloc 3's page abandonment, on top of the segment-wide pool ({@link AbandonedPool}).
 *
 * <h2>Why</h2>
 * A page's blocks are reused only by its owner. A thread that filled pages and then went idle without releasing its
 * heap (larson's main thread fills every slot, then only joins; a loader that builds a structure and waits) left the
 * blocks the workers free on cross-thread lists nobody collected, while the workers carved pages of their own: 2.3x
 * the live data (docs/benchmarks.md, "The allocator's own footprint"). Its full pages are here instead, and the
 * workers adopt them as they need room.
 *
 * <h2>Ownership</h2>
 * A page's owner is in its descriptor ({@code PAGE_OWNER}, {@code PAGE_HEAP}), and only the owner touches its lists,
 * counters, queue links and live bits. Page slots (format, retire, purge, {@code SEG_USED_PAGES}) stay the segment
 * owner's: a heap never retires a page of another's segment (it keeps it, or gives it to this pool), and a segment
 * is released only when no page of it holds a size class, so a page lent out keeps its segment. States of a page
 * held here: {@code PAGE_OWNER} is pooled ({@link SegmentLayout#isPooled}: the giver's thread, or none),
 * {@code PAGE_HEAP} names the heap that gave it (0: one that ended), it is in {@link #pooled} and in its giver's list
 * (linked through its {@code NEXT} and {@code PREV}), and its cross-thread list is untagged (remote frees push as
 * usual). It leaves under {@link #lock} only: by {@link #take} (a heap adopts it), {@link #reclaimForFreer} (the
 * thread that gave it frees into it), {@link #reclaimOwn} (its segment's owner collects) or {@link #reclaim} (its
 * segment's holder takes it back while abandoning, sweeping or adopting the segment: {@code AbandonedPool.settle});
 * it leaves with clean links, and whoever removes it writes its new owner under the lock, which also orders
 * the previous owner's plain writes before the next one's reads.
 */
final class PagePool {

    /**
     * Full pages of one size class a thread heap keeps before it gives the next one to the pool (mimalloc 3: 2), once
     * its thread has freed into one of its full pages (HeapImpl.freesIntoFullPages; before that, none).
     */
    static final int FULL_RETAIN = 2;
    /**
     * Pages of one giver {@link #take} looks at, oldest first, for one with room: each look reads a line other
     * threads' frees are writing.
     */
    private static final int TAKE_SCAN = 4;
    /**
     * Pages of an idle or ended giver {@link #take} looks at: with 8, six of sixteen larson rounds peaked above 1.35x
     * the live data; with 32, one (docs/benchmarks.md, "The page pool's take looks further").
     */
    private static final int TAKE_LOOK = 32;

    /**
     * One giver's pooled pages of one (tag, bin), oldest first: a list linked through the pages' own queue links
     * ({@code NEXT}, {@code PREV}), which no heap uses while the page is pooled (guarded by {@link #lock}). An
     * object per page (a {@code LinkedHashSet} entry and its key) cost every page handed over and taken back an
     * allocation and a pointer chase (docs/benchmarks.md, "The page pool without an object per page").
     */
    private static final class GiverPages {
        long head;
        long tail;

        void append(long page) {
            Raw.putLong(page + PREV, tail);
            Raw.putLong(page + NEXT, 0);
            if (tail != 0) {
                Raw.putLong(tail + NEXT, page);
            } else {
                head = page;
            }
            tail = page;
        }

        /** Unlinks {@code page} and clears its links (the next owner queues it from clean links). */
        void unlink(long page) {
            long prev = Raw.getLong(page + PREV);
            long next = Raw.getLong(page + NEXT);
            if (prev != 0) {
                Raw.putLong(prev + NEXT, next);
            } else {
                head = next;
            }
            if (next != 0) {
                Raw.putLong(next + PREV, prev);
            } else {
                tail = prev;
            }
            Raw.putLong(page + NEXT, 0);
            Raw.putLong(page + PREV, 0);
        }

        boolean isEmpty() {
            return head == 0;
        }
    }

    private final long segmentMask;
    private final ReentrantLock lock = new ReentrantLock();
    /** Per (tag, bin): the pooled pages of each giver, by giver heap id (guarded by {@link #lock}). */
    private final LinkedHashMap<Integer, GiverPages>[] pages;
    /**
     * Every pooled page (guarded by {@link #lock}): what a caller that may hold a page no longer pooled (so perhaps
     * unmapped) asks before it reads the page. A page in it is mapped, and its {@code PAGE_HEAP} and {@code BIN} say
     * where it is filed.
     */
    private final PageSet pooled = new PageSet();
    /** Pages per slot, readable without the lock (a hint for the allocation slow path). */
    private final AtomicIntegerArray counts;
    private final LongAdder given = new LongAdder();
    private final LongAdder adopted = new LongAdder();
    private final LongAdder reclaimedOnFree = new LongAdder();
    /** Whether the heap of this id is live and ran its slow path since the given nanoTime (see {@link #take}). */
    private final BusyHeap busy;

    /** See {@link #busy}. */
    interface BusyHeap {
        /** Whether heap {@code heapId} is live and ran its slow path since {@code since} (nanoTime). */
        boolean ranSince(int heapId, long since);

        /**
         * Whether the thread of id {@code tid} has a live heap that looked for a page of {@code bin} since
         * {@code since} (nanoTime).
         */
        boolean needsPagesSince(int tid, int bin, long since);
    }

    @SuppressWarnings("unchecked")
    PagePool(long segmentSize, BusyHeap busy) {
        this.segmentMask = -segmentSize;
        this.busy = busy;
        int slots = dev.cairn.alloc.Allocator.HEAP_TAGS * SizeClasses.BIN_COUNT;
        this.pages = new LinkedHashMap[slots];
        for (int i = 0; i < slots; i++) {
            pages[i] = new LinkedHashMap<>();
        }
        this.counts = new AtomicIntegerArray(slots);
    }

    private static int slot(int tag, int bin) {
        return tag * SizeClasses.BIN_COUNT + bin;
    }

    private int slotOf(long page) {
        return slot(Raw.getInt((page & segmentMask) + SEG_TAG), Raw.getInt(page + BIN));
    }

    /** Whether a page of {@code bin} and {@code tag} may be pooled (a racy hint). */
    boolean mayHave(int tag, int bin) {
        return counts.get(slot(tag, bin)) != 0;
    }

    /**
     * Takes {@code page} from its owner, heap {@code heapId} on thread {@code giverTid} (both 0: a heap that ends and
     * hands over pages of others' segments), which has unlinked it from its queues and keeps no note of it. The page
     * keeps the id in {@code PAGE_HEAP} while pooled: a free by that heap's thread takes it back
     * ({@link #reclaimForFreer}).
     */
    void give(long page, int heapId, long giverTid) {
        Raw.putShort(page + FLAGS, (short) 0);
        Raw.putShort(page + RETAIN, (short) 0);
        int slot = slotOf(page);
        lock.lock();
        try {
            Raw.putInt(page + PAGE_HEAP, heapId);
            Raw.putLong(page + PAGE_OWNER, pooledBy(giverTid)); // giverTid 0: PAGE_POOLED, an ended heap's
            pages[slot].computeIfAbsent(heapId, id -> new GiverPages()).append(page);
            pooled.add(page);
            counts.incrementAndGet(slot);
        } finally {
            lock.unlock();
        }
        given.increment();
    }

    /** Takes a pooled page out of its giver's list and the pool's set (the caller writes its new owner). */
    private void removeLocked(long page) {
        int slot = slotOf(page);
        int giver = Raw.getInt(page + PAGE_HEAP);
        GiverPages list = pages[slot].get(giver);
        list.unlink(page);
        if (list.isEmpty()) {
            pages[slot].remove(giver);
        }
        pooled.remove(page);
        counts.decrementAndGet(slot);
    }

    /**
     * A pooled page of {@code bin} and {@code tag} with room (other threads freed into it since it was given up, or
     * it has blocks never handed out), now owned by heap {@code heapId} on {@code ownerTid}; or 0. The taker's own
     * pages first, then those of heaps that ended or are idle (no slow path for a millisecond: larson's main thread
     * after its fill). A busy heap's pages are left to it: xmalloc's producers took each other's, and every page moved
     * between cores twice per use. The caller collects the page's cross-thread list.
     *
     * <p>Among an idle or ended heap's pages, the taker prefers one whose last remote free was its own
     * ({@code LAST_FREER}): its frees there become local, and it reuses the room they make. A page another thread
     * frees into is left to that thread while it looks for pages of the bin itself (within the last millisecond):
     * taking it made that thread's frees remote and sent it to carve pages of its own (larson with an idle filler:
     * the workers' segments held 105-141 pages instead of about 75 in one round of five, 1.5-1.6x the live data;
     * taking such pages when nothing else had room still gave 1.45-1.52x in the worst rounds). A thread that frees
     * into a bin and allocates none of it reserves nothing. Up to
     * {@link #TAKE_LOOK} pages per giver are looked at, and those without room go to the back of the giver's list, so
     * that the next look starts with pages not seen yet: an idle filler's oldest pages may be ones nobody frees into,
     * and a look at the first four alone missed the pages behind them.
     */
    long take(int tag, int bin, long ownerTid, int heapId) {
        int slot = slot(tag, bin);
        lock.lock();
        try {
            LinkedHashMap<Integer, GiverPages> givers = pages[slot];
            long chosen = withRoom(givers.get(heapId));
            if (chosen == 0) {
                long idleSince = System.nanoTime() - 1_000_000;
                long other = 0; // a page with room that no other thread needing pages of the bin frees into
                for (var entry : givers.entrySet()) {
                    int giver = entry.getKey();
                    if (giver != heapId && (giver == 0 || !busy.ranSince(giver, idleSince))) {
                        long found = lookThrough(entry.getValue(), bin, ownerTid, idleSince);
                        if (found > 0) {
                            chosen = found;
                            break;
                        }
                        if (other == 0 && found < 0) {
                            other = -found;
                        }
                    }
                }
                if (chosen == 0) {
                    chosen = other;
                }
            }
            if (chosen == 0) {
                return 0;
            }
            removeLocked(chosen);
            Raw.putInt(chosen + PAGE_HEAP, heapId);
            Raw.putLong(chosen + PAGE_OWNER, ownerTid);
            adopted.increment();
            return chosen;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Looks at the first {@link #TAKE_LOOK} pages of an idle or ended giver's {@code set} for {@link #take}: the first
     * with room that the taker freed into last, else (negated) the first with room whose last freer is no other
     * thread that needs pages of the bin now, else 0. Pages without room move to the back of the list.
     */
    private long lookThrough(GiverPages list, int bin, long takerTid, long since) {
        long chosen = 0;
        long other = 0;
        long firstMoved = 0; // a page moved to the back: the look has come round to the pages it has seen
        int looked = 0;
        for (long page = list.head, next; page != 0 && page != firstMoved && looked++ < TAKE_LOOK; page = next) {
            next = Raw.getLong(page + NEXT);
            if (!hasRoom(page)) {
                if (page != list.tail) {
                    list.unlink(page);
                    list.append(page);
                    if (firstMoved == 0) {
                        firstMoved = page;
                    }
                }
                continue;
            }
            int freer = Raw.getInt(page + LAST_FREER);
            if (freer == (int) takerTid) {
                chosen = page;
                break;
            }
            if (other == 0 && (freer == 0 || !busy.needsPagesSince(freer, bin, since))) {
                other = page;
            }
        }
        return chosen != 0 ? chosen : -other;
    }

    /**
     * Whether a pooled page has room a taker would find: blocks other threads freed into it, or blocks never handed
     * out. Read by a thread that does not own the page, so unlike {@code Pages.hasRoom} (the owner's lists) it looks
     * only at the cross-thread list and the counters.
     */
    private static boolean hasRoom(long page) {
        return Raw.getLongVolatile(page + XTHREAD_FREE) != 0 || Raw.getInt(page + USED) < Raw.getInt(page + RESERVED);
    }

    /** The oldest of the first {@link #TAKE_SCAN} pages of {@code list} that has room, or 0. */
    private static long withRoom(GiverPages list) {
        if (list == null) {
            return 0;
        }
        int scanned = 0;
        for (long page = list.head; page != 0 && scanned++ < TAKE_SCAN; page = Raw.getLong(page + NEXT)) {
            if (hasRoom(page)) {
                return page;
            }
        }
        return 0;
    }

    /**
     * Takes a pooled page back for the holder of its segment (AbandonedPool.settle), which writes its new owner;
     * false when it is no longer pooled (a heap adopted it meanwhile).
     */
    boolean reclaim(long page) {
        lock.lock();
        try {
            if (!pooled.contains(page)) {
                return false;
            }
            removeLocked(page);
            Raw.putLong(page + PAGE_OWNER, NO_OWNER);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives a pooled page to the heap {@code taker} names for it (the freeing thread's: AllocatorImpl.reclaimOnFree),
     * which is then its owner; returns that heap, or null when the page is not pooled (any more) or {@code taker}
     * names none. The page is looked up in {@link #pooled} before it is read: the caller's block no longer pins it, so
     * a page that left the pool may be gone.
     */
    HeapImpl reclaimForFreer(long page, java.util.function.LongFunction<HeapImpl> taker) {
        lock.lock();
        try {
            if (!pooled.contains(page)) {
                return null;
            }
            HeapImpl heap = taker.apply(page);
            if (heap == null) {
                return null;
            }
            removeLocked(page);
            Raw.putInt(page + PAGE_HEAP, heap.id());
            Raw.putLong(page + PAGE_OWNER, heap.ownerTid());
            reclaimedOnFree.increment();
            return heap;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes back, for the thread heap {@code heapId} on {@code ownerTid}, the pooled pages of its own segments that
     * other threads have freed into since (all of them with {@code all}): its collections ({@code collect}, and its
     * slow path's periodic one) see what other threads freed into its pages, pooled or not, and give back the
     * drained ones. Returns them; the caller collects and queues or retires them.
     */
    List<Long> reclaimOwn(int heapId, long ownerTid, boolean all) {
        List<Long> found = new ArrayList<>();
        lock.lock();
        try {
            for (long page : pooled.toArray()) {
                if (Raw.getInt((page & segmentMask) + SEG_HEAP_ID) == heapId
                        && (all || Raw.getLongVolatile(page + XTHREAD_FREE) != 0)) {
                    removeLocked(page);
                    Raw.putInt(page + PAGE_HEAP, heapId);
                    Raw.putLong(page + PAGE_OWNER, ownerTid);
                    found.add(page);
                }
            }
        } finally {
            lock.unlock();
        }
        return found;
    }

    /**
     * Checks the pool's own structures (validation): every listed page is in {@link #pooled}, filed under its slot and
     * giver, marked pooled, and linked both ways; the lists hold every pooled page once; the counts agree. Returns the
     * first violation, or null.
     */
    String validate() {
        lock.lock();
        try {
            int listed = 0;
            for (int slot = 0; slot < pages.length; slot++) {
                int inSlot = 0;
                for (var entry : pages[slot].entrySet()) {
                    GiverPages list = entry.getValue();
                    if (list.isEmpty()) {
                        return "an empty list of giver " + entry.getKey() + " is kept in slot " + slot;
                    }
                    long prev = 0;
                    for (long page = list.head; page != 0; prev = page, page = Raw.getLong(page + NEXT)) {
                        String where = "pooled page " + Errors.hex(page);
                        if (!pooled.contains(page)) {
                            return where + " is listed but not in the pool's set";
                        }
                        if (slotOf(page) != slot || Raw.getInt(page + PAGE_HEAP) != entry.getKey()) {
                            return where + " is listed under slot " + slot + " and giver " + entry.getKey();
                        }
                        if (!isPooled(Raw.getLong(page + PAGE_OWNER))) {
                            return where + " has owner " + Raw.getLong(page + PAGE_OWNER);
                        }
                        if (Raw.getLong(page + PREV) != prev) {
                            return where + " links back to " + Errors.hex(Raw.getLong(page + PREV)) + ", not "
                                    + Errors.hex(prev);
                        }
                        if (++inSlot > pooled.size()) {
                            return "the list of giver " + entry.getKey() + " in slot " + slot + " is cyclic";
                        }
                    }
                    if (list.tail != prev) {
                        return "the list of giver " + entry.getKey() + " in slot " + slot + " ends at "
                                + Errors.hex(prev) + " but names " + Errors.hex(list.tail) + " its tail";
                    }
                }
                if (inSlot != counts.get(slot)) {
                    return "slot " + slot + " lists " + inSlot + " pages but counts " + counts.get(slot);
                }
                listed += inSlot;
            }
            return listed == pooled.size() ? null
                    : "the lists hold " + listed + " pages but the pool's set " + pooled.size();
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code page} is pooled here (validation). */
    boolean contains(long page) {
        lock.lock();
        try {
            return pooled.contains(page);
        } finally {
            lock.unlock();
        }
    }

    /** Pages pooled now (validation, stats). */
    int size() {
        lock.lock();
        try {
            return pooled.size();
        } finally {
            lock.unlock();
        }
    }

    /** Pages given to the pool and adopted from it so far. */
    long given() {
        return given.sum();
    }

    long adopted() {
        return adopted.sum();
    }

    /** Pages taken back by a free of the heap that gave them, or of a successor (see reclaimForFreer). */
    long reclaimedOnFree() {
        return reclaimedOnFree.sum();
    }
}
