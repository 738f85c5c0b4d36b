package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import org.eclipse.collections.impl.list.mutable.primitive.LongArrayList;

/**
 * An interpreter's table of biased-RC merge queues (CPython's {@code _brc_state}): 257 buckets keyed by thread id,
 * each a monitor guarding the thread states that hash there and their {@code mergeQueue}s.
 *
 * <p>Protocol: a non-owner that set QUEUED ({@link BiasedRc}) looks the owner up here under the bucket lock. Found:
 * the object goes on the owner's queue and the owner's MERGE breaker bit is set; the owner merges each with −1 at its
 * next checkpoint or attach ({@link #drain}); if the owner is detached, the queuer holds it in MERGING and merges
 * the queue itself. Not found: the owner has left, closed or reaped after its thread ended ({@link ThreadReaper});
 * ids are never reused, so it never comes back, and the finder merges the object itself. A thread state leaves the
 * table only when its queue is empty, under the same lock ({@link #remove}), so nothing is queued to a thread that
 * will never look.
 */
final class BrcQueues {

    private static final int BUCKETS = 257;

    private final Bucket[] buckets = new Bucket[BUCKETS];

    BrcQueues() {
        for (int i = 0; i < BUCKETS; i++) {
            buckets[i] = new Bucket();
        }
    }

    private static final class Bucket {
        /** Thread states hashed here; guarded by this bucket's monitor. */
        final java.util.ArrayList<ThreadState> threads = new java.util.ArrayList<>(2);
    }

    private Bucket bucket(long tid) {
        return buckets[(int) Long.remainderUnsigned(tid, BUCKETS)];
    }

    void add(ThreadState ts) {
        Bucket b = bucket(ts.id);
        synchronized (b) {
            b.threads.add(ts);
        }
    }

    /**
     * Removes {@code ts} once its queue is empty; returns false (and leaves it registered) when objects are queued,
     * which the caller merges before trying again.
     */
    boolean remove(ThreadState ts) {
        Bucket b = bucket(ts.id);
        synchronized (b) {
            if (!ts.mergeQueue.isEmpty()) {
                return false;
            }
            b.threads.remove(ts);
            return true;
        }
    }

    /** Step 2 of the protocol, after the caller's CAS set QUEUED and kept its reference in the queue. */
    void enqueue(ThreadState ts, long obj) {
        long tid = Raw.getLongVolatile(obj + ObjectLayout.OB_TID);
        if (tid == 0) {
            // the owner merged meanwhile (only a racing GC or an over-decref does this): drop our reference plainly
            BiasedRc.decref(ts, obj);
            return;
        }
        Bucket b = bucket(tid);
        ThreadState found = null;
        synchronized (b) {
            for (ThreadState owner : b.threads) {
                if (owner.id == tid) {
                    owner.mergeQueue.add(obj);
                    owner.requestMerge();
                    found = owner;
                    break;
                }
            }
        }
        if (found != null) {
            mergeForDetached(found, ts);
            return;
        }
        // owner gone for good: merge on its behalf
        if (BiasedRc.explicitMerge(obj, -1) == 0) {
            ts.dealloc(obj);
        }
    }

    /**
     * A detached owner may not attach for a long time: hold it in MERGING (it cannot attach meanwhile, and a pause
     * waits for it) and merge its queue on its behalf (CPython's {@code _PyThreadState_TrySuspendDetached}).
     * Partners: {@link ThreadState#attachLoop} waits while MERGING; {@link StopTheWorld#stopLocked} counts it as
     * running.
     */
    private void mergeForDetached(ThreadState owner, ThreadState self) {
        // partner: ThreadReaper.claim's CAS DETACHED -> CLOSED; exactly one of us takes a dead detached owner
        if (owner == self || owner.state() != ThreadState.DETACHED
                || !owner.casState(ThreadState.DETACHED, ThreadState.MERGING)) {
            return;
        }
        try {
            drain(owner, self);
        } finally {
            owner.casState(ThreadState.MERGING, ThreadState.DETACHED);
            java.util.concurrent.locks.LockSupport.unpark(owner.thread);
            owner.interp.stw.notifyRequester();
        }
    }

    /** Takes the queue of {@code owner} (under its bucket lock); the caller merges what it returns. */
    LongArrayList take(ThreadState owner) {
        Bucket b = bucket(owner.id);
        synchronized (b) {
            if (owner.mergeQueue.isEmpty()) {
                return null;
            }
            LongArrayList out = new LongArrayList(owner.mergeQueue.size());
            out.addAll(owner.mergeQueue);
            owner.mergeQueue.clear();
            return out;
        }
    }

    /**
     * Merges {@code owner}'s queue on {@code self}: the owner itself at a checkpoint, or the GC for a stopped owner.
     * Each queued object gives back the reference its queuer kept; returns how many objects died.
     */
    int drain(ThreadState owner, ThreadState self) {
        int died = 0;
        LongArrayList objs;
        while ((objs = take(owner)) != null) {
            for (int i = 0; i < objs.size(); i++) {
                long obj = objs.get(i);
                owner.proven.forget(obj); // merged, it is owned by nobody: another thread may free it
                if (BiasedRc.explicitMerge(obj, -1) == 0) {
                    self.dealloc(obj);
                    died++;
                }
            }
        }
        return died;
    }
}
