package dev.cairn.runtime;

import java.util.concurrent.locks.LockSupport;

/**
 * Reaping the thread states of threads that ended without closing them (docs/design/runtime.md §7.1). Java has no
 * thread-exit hook, so a dead thread is found by polling {@link Thread#isAlive()}.
 *
 * <p>Protocol. The reaper is an attached thread state {@code self} of the same interpreter, so no other thread's
 * pause (nor the GC or a dump) completes while it works; the GC reaps inside its own pause. It holds the head lock
 * throughout ({@link Interpreter#lockHead()}): the table is read and changed under it, no other reaper runs, and a
 * dead state can be SUSPENDED only by the reaper's own pause. For each state whose thread is dead ({@code isAlive()}
 * false orders the dead thread's last writes before our reads, JLS 17.4.4):
 * <ol>
 * <li>claim it: CAS ATTACHED, DETACHED or, by the pause's own requester, SUSPENDED → CLOSED; MERGING is waited out
 *     (its merger takes no lock, so it finishes). Once CLOSED no merger takes it ({@link BrcQueues} CASes only
 *     DETACHED → MERGING) and no pause stops or starts it ({@link StopTheWorld} moves only DETACHED and
 *     SUSPENDED);</li>
 * <li>do what {@link ThreadState#close()} does, on {@code self}: merge its queue (what dies is freed by self), run
 *     its due delayed decrefs and hand the rest to the interpreter, fold its heap-type counts into the types, until
 *     its queue is empty as it leaves the merge-queue table;</li>
 * <li>leave the thread table, releasing its index for reuse.</li>
 * </ol>
 * Then its id is found nowhere, so its objects follow the "owner exited" rule: whoever finds one merges it. Its
 * allocator heap and QSBR handle are left to the allocator's and QSBR's own dead-thread detection.
 *
 * <p>When and cost: every thread-state creation that sees a dead state in the table scan it already makes (one
 * {@code isAlive()} per entry), the start of every collection (so of destruction too), and
 * {@link Interpreter#reapDeadThreads()}. Latency: until the next of those in the interpreter; meanwhile the state
 * counts as stopped and objects queued to it wait. Per dead state: its queue, delayed decrefs and heap-type counts,
 * once.
 */
final class ThreadReaper {

    private ThreadReaper() {
    }

    /** Reaps every dead thread state of {@code self}'s interpreter on {@code self} (attached); returns how many. */
    static int reapDead(ThreadState self) {
        Interpreter interp = self.interp;
        interp.lockHead(); // reentrant for the GC, which holds it as the pause's requester
        try {
            int reaped = 0;
            for (ThreadState dead : interp.threadsSnapshotLocked()) {
                if (dead != self && !dead.thread.isAlive() && claim(dead)) {
                    reap(dead, self);
                    reaped++;
                }
            }
            return reaped;
        } finally {
            interp.headLock.unlock();
        }
    }

    /** Step 1: moves {@code dead} to CLOSED; false if it is not ours to reap (the caller holds the head lock). */
    private static boolean claim(ThreadState dead) {
        while (true) {
            int s = dead.state();
            switch (s) {
                case ThreadState.ATTACHED, ThreadState.DETACHED -> {
                    if (dead.casState(s, ThreadState.CLOSED)) {
                        return true;
                    }
                }
                case ThreadState.SUSPENDED -> {
                    // only our own pause can have a dead state suspended while we hold the head lock (a pause
                    // holds it until its start has put every state back); that start skips CLOSED
                    boolean ours = dead.interp.stw.stoppedBy(Thread.currentThread());
                    assert ours : dead + " suspended by a pause that does not hold the head lock";
                    if (!ours) {
                        return false;
                    }
                    if (dead.casState(ThreadState.SUSPENDED, ThreadState.CLOSED)) {
                        return true;
                    }
                }
                // partner: BrcQueues.mergeForDetached puts it back to DETACHED when its merge is done
                case ThreadState.MERGING -> LockSupport.parkNanos(dead, 10_000);
                default -> {
                    return false;
                }
            }
        }
    }

    /** Steps 2 and 3, the dead thread's close() done on its behalf. */
    private static void reap(ThreadState dead, ThreadState self) {
        Interpreter interp = dead.interp;
        do {
            interp.brc.drain(dead, self);
            dead.delayed.processDue(self, interp.allocator.qsbr());
            interp.adoptDelayed(dead.delayed);
            dead.typeRefcounts.mergeInto(interp.typeIds);
        } while (!interp.brc.remove(dead));
        interp.removeThreadLocked(dead);
    }
}
