package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.segments.raw.Raw;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A heap's retired pages: pages of its segments given back to their segment (unformatted) whose memory is still
 * committed. Per kind, newest last, they are what a fresh page reuses first (warm, committed: churn re-formats the
 * same pages instead of faulting in new ones, and a reuse cancels the purge); in deadline order, those waiting out
 * the purge delay.
 *
 * <p>Purges by another thread. The owner purges its due pages on its slow paths, and an owner that went idle has
 * none: {@code Allocator.collect} from another thread purges for it, and so do other threads' slow paths, a few pages
 * per idle heap once per purge delay, once the owner has run no slow path for ten delays
 * ({@code HeapImpl.purgeIfIdle}). An owner back from more than half a delay away first gives its waiting pages a delay
 * from its return, once per retirement ({@code HeapImpl.purgeExpired}). {@link #lock} makes that safe. The owner
 * holds it wherever a page of its segments goes between retired and formatted (its retire, a fresh page's take,
 * commit and format, an adoption's enqueue), where it releases or gives up segments, and around every call here;
 * another thread only {@link #tryLock}s it (it never waits for an owner) and purges a queued page only while the page
 * is still unformatted and marked purge-pending. So a page is never purged between its owner's commit and format, nor
 * after it was taken back, and no segment goes away under a purge. Every method but {@link #mayHavePending} is called
 * with the lock held.
 *
 * <p>A busy segment's pages wait. A page is purged once its own deadline (a delay after its retirement) has passed
 * <em>and</em> its segment has gone quiet: each segment keeps a gate ({@code SEG_PURGE_GATE}) that a retirement, or
 * the reuse of one of its retired pages, sets a delay ahead when the segment was quiet (no gate, or one passed more
 * than a tenth of a delay ago), a tenth of a delay ahead when the gate passed only just now, and otherwise moves a
 * tenth of a delay later, to at most {@value #GATE_MAX_DELAYS} delays after that event. A segment that retires or
 * reuses a page at least every tenth of a delay keeps its retired pages committed while it does: they are the pages
 * its next fresh pages reuse. Per-page deadlines alone purged them in the middle of the churn and faulted them in
 * again a moment later (rptest, batch and sh6bench with 8 threads on 2 cores: 20-35% of the faults and of the time;
 * docs/benchmarks.md, "A busy segment's pages wait"). mimalloc's segments extend their purge time in the same way
 * ({@code purge_extend_delay}), on frees only; reuses count here too because a thread on a fraction of a core retires
 * too slowly in wall time to keep the gate ahead by retirements alone, though it reuses its pages as fast (rptest, 8
 * threads: a fifth fewer faults). A page whose deadline passed while its segment's gate is ahead goes back to the
 * queue with the gate as its deadline; {@code all} (collect) ignores gates.
 */
final class RetiredPages {

    /** How far past a retirement or reuse a segment's gate may reach, in purge delays. */
    static final int GATE_MAX_DELAYS = 10;

    private final SegmentStore store;
    private final long purgeDelayNanos;
    /** A tenth of the purge delay: how much one retirement or reuse moves a busy segment's gate. */
    private final long gateStepNanos;
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * Pages waiting out the purge delay, oldest deadline first (adopted ones are appended: at most a delay late; so
     * are pages re-queued behind their segment's gate: those after one wait at most until that gate).
     */
    private final ArrayDeque<Long> pending = new ArrayDeque<>();
    /** Per kind, newest last. */
    private final List<ArrayDeque<Long>> recent = new ArrayList<>();

    RetiredPages(SegmentStore store, long purgeDelayNanos) {
        this.store = store;
        this.purgeDelayNanos = purgeDelayNanos;
        this.gateStepNanos = purgeDelayNanos / 10;
        for (int k = 0; k < Kind.values().length; k++) {
            recent.add(new ArrayDeque<>());
        }
    }

    void lock() {
        lock.lock();
    }

    boolean tryLock() {
        return lock.tryLock();
    }

    void unlock() {
        lock.unlock();
    }

    /** A hint, without the lock: another thread's purge may have emptied the queue meanwhile. */
    boolean mayHavePending() {
        return !pending.isEmpty();
    }

    /** A page its heap just unformatted in {@code segment}: reused first; purged now with no delay, else queued. */
    void retire(long segment, long page) {
        recent.get(Raw.getInt(segment + SEG_KIND)).add(page);
        if (purgeDelayNanos == 0) {
            store.purgePage(segment, page);
        } else {
            long now = System.nanoTime();
            moveGate(segment, now);
            Raw.putLong(page + PURGE_DEADLINE, now + purgeDelayNanos);
            Raw.putShort(page + FLAGS, (short) FLAG_PURGE_PENDING);
            pending.add(page);
        }
    }

    private long segmentOf(long page) {
        return page & -store.segmentSize();
    }

    /** A page of {@code segment} retired or reused at {@code now}: moves the segment's gate (class comment). */
    private void moveGate(long segment, long now) {
        long gate = Raw.getLong(segment + SEG_PURGE_GATE);
        if (gate != 0 && gate - now > 0) {
            gate = Math.min(gate + gateStepNanos, now + GATE_MAX_DELAYS * purgeDelayNanos); // busy: wait longer
        } else if (gate != 0 && now - gate < gateStepNanos) {
            gate = now + gateStepNanos; // the gate passed only just now: busy still
        } else {
            gate = now + purgeDelayNanos; // quiet until now
        }
        Raw.putLong(segment + SEG_PURGE_GATE, gate);
    }

    /** An unused page of a segment just adopted, whose purge was pending: this heap's to purge or reuse now. */
    void adopt(long segment, long page) {
        pending.add(page);
        recent.get(Raw.getInt(segment + SEG_KIND)).add(page);
    }

    /**
     * The newest retired page of {@code kind} still unused, or 0 (pages of released segments were dropped); taking it
     * moves its segment's gate.
     */
    long takeNewest(Kind kind) {
        ArrayDeque<Long> pages = recent.get(kind.ordinal());
        while (!pages.isEmpty()) {
            long page = pages.pollLast();
            if (Raw.getInt(page + BLOCK_SIZE) == 0) {
                if (purgeDelayNanos != 0) {
                    moveGate(segmentOf(page), System.nanoTime()); // reused: its segment is busy
                }
                return page;
            }
        }
        return 0;
    }

    /**
     * Gives every page still waiting that was not postponed before a deadline of at least {@code deadline}, and marks
     * it postponed: the owner is back from more than half a delay away ({@code HeapImpl.purgeExpired}). The queue stays
     * in deadline order but for pages postponed at an earlier return, which are older and keep an earlier deadline
     * behind a later one: purged at most a delay late.
     */
    void postponeOnce(long deadline) {
        for (long page : pending) {
            int flags = Raw.getShort(page + FLAGS);
            if (Raw.getInt(page + BLOCK_SIZE) == 0 && flags == FLAG_PURGE_PENDING) { // still retired, not postponed
                Raw.putShort(page + FLAGS, (short) (FLAG_PURGE_PENDING | FLAG_PURGE_POSTPONED));
                if (Raw.getLong(page + PURGE_DEADLINE) - deadline < 0) {
                    Raw.putLong(page + PURGE_DEADLINE, deadline);
                }
            }
        }
    }

    /** Forgets the pages of a segment going away ({@code [segment, end)}). */
    void dropSegment(long segment, long end, Kind kind) {
        pending.removeIf(page -> page >= segment && page < end);
        recent.get(kind.ordinal()).removeIf(page -> page >= segment && page < end);
    }

    /** Purges the pages whose deadline has passed ({@code all}: every one), at most {@code limit}; how many. */
    int purgeDue(boolean all, long now, int limit) {
        int purged = 0;
        while (!pending.isEmpty() && purged < limit) {
            long page = pending.peek();
            if (!all && Raw.getLong(page + PURGE_DEADLINE) - now > 0) {
                break;
            }
            pending.poll();
            if (Raw.getInt(page + BLOCK_SIZE) == 0 && (Raw.getShort(page + FLAGS) & FLAG_PURGE_PENDING) != 0) {
                long gate = Raw.getLong(segmentOf(page) + SEG_PURGE_GATE);
                if (!all && gate - now > 0) { // its segment is busy: wait for the gate, behind the pages due sooner
                    Raw.putLong(page + PURGE_DEADLINE, gate);
                    pending.add(page);
                    continue;
                }
                Raw.putShort(page + FLAGS, (short) 0);
                store.purgePage(segmentOf(page), page);
                purged++;
            }
        }
        return purged;
    }

    /**
     * Forgets every page (the heap ends: its segments are released, or abandoned with their pages' deadlines, which
     * the pool keeps).
     */
    void clear() {
        pending.clear();
        for (ArrayDeque<Long> pages : recent) {
            pages.clear();
        }
    }
}
