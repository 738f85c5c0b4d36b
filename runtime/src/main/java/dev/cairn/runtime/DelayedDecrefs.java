package dev.cairn.runtime;

import dev.cairn.reclaim.Qsbr;
import org.eclipse.collections.impl.list.mutable.primitive.LongArrayList;

/**
 * References dropped from lock-free-readable containers, decref'd only after a QSBR grace period (CPython's
 * {@code _PyObject_XDecRefDelayed}): a reader that loaded the pointer before the writer unlinked it may still
 * incref it until its next quiescent point, so the container's reference must outlive that point.
 *
 * <p>One queue per thread state (owner only), goals taken from the thread's handle in its allocator's QSBR domain
 * after the unlink, so they are monotone and the queue is processed in order up to the first unreached goal. A
 * closing thread, or the reaper of a thread that ended without closing ({@link ThreadReaper}), hands what is left
 * to its interpreter ({@link Interpreter#adoptDelayed}), whose other threads run them at checkpoints once due
 * ({@link Interpreter#processDueOrphans}), and which the GC and destruction process with the world stopped (no
 * reader can then be between quiescent points).
 */
final class DelayedDecrefs {

    private final LongArrayList objects = new LongArrayList();
    private final LongArrayList goals = new LongArrayList();
    private int head;
    /** Looks at a head goal beyond the write sequence since the last advance made for it (see advanceToHead). */
    private int beyondLooks;
    /** Looks before advanceToHead advances: one atomic add on the shared sequence per this many checkpoints. */
    private static final int LOOKS_PER_ADVANCE = 16;

    void add(ThreadState ts, long obj) {
        objects.add(obj);
        goals.add(ts.qsbr.deferredAdvance());
    }

    boolean isEmpty() {
        return head == objects.size();
    }

    /** Decrefs every entry whose goal {@code domain} has reached; returns how many ran. */
    int processDue(ThreadState ts, Qsbr domain) {
        advanceToHead(domain);
        int ran = 0;
        while (head < objects.size() && domain.poll(goals.get(head))) {
            long obj = objects.get(head++);
            ran++;
            BiasedRc.decref(ts, obj);
        }
        compact();
        return ran;
    }

    /**
     * Goals come from {@code deferredAdvance()}, which really advances only once per so many calls: the head's goal
     * may lie beyond the write sequence, where no quiescent point can reach it. Without this advance (made after a
     * few looks), a thread that stopped dropping references kept the last ones until the next collection, however
     * often it checkpointed.
     */
    private void advanceToHead(Qsbr domain) {
        // not at every look: a writer that checkpoints often would add to the shared sequence each time, where
        // deferredAdvance amortises that over many drops
        if (head < objects.size() && goals.get(head) > domain.writeSequence() && ++beyondLooks >= LOOKS_PER_ADVANCE) {
            beyondLooks = 0;
            domain.advance();
        }
    }

    /** Moves every entry (object, goal) to {@code objs}/{@code goalsOut}; this queue is empty afterwards. */
    void drainTo(LongArrayList objs, LongArrayList goalsOut) {
        for (int i = head; i < objects.size(); i++) {
            objs.add(objects.get(i));
            goalsOut.add(goals.get(i));
        }
        objects.clear();
        goals.clear();
        head = 0;
    }

    /** Decrefs everything now: only with the world stopped or no reader left. */
    void processAll(ThreadState ts) {
        while (head < objects.size()) {
            BiasedRc.decref(ts, objects.get(head++));
        }
        compact();
    }

    int size() {
        return objects.size() - head;
    }

    private void compact() {
        if (head == objects.size()) {
            objects.clear();
            goals.clear();
            head = 0;
        } else if (head > 1024 && head * 2 > objects.size()) {
            // drops the run prefix: the waiting entries go out (drainTo empties the lists) and come back from index 0
            LongArrayList o = new LongArrayList(objects.size() - head);
            LongArrayList g = new LongArrayList(objects.size() - head);
            drainTo(o, g);
            objects.addAll(o);
            goals.addAll(g);
        }
    }
}
