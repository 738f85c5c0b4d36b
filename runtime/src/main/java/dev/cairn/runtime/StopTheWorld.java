package dev.cairn.runtime;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Stop-the-world for one interpreter (CPython's {@code _stoptheworld_state}; docs/design/runtime.md §5).
 *
 * <p>Protocol. The requester takes {@link #mutex} (one pause at a time; the runtime-wide pause takes every
 * interpreter's mutex in id order), sets {@link #requested}, takes the interpreter's head lock (no thread state joins
 * or leaves during the pause) and loops over the thread table: a DETACHED thread is CAS'd to SUSPENDED (it holds
 * nothing and cannot attach until the start), an ATTACHED one gets the STOP breaker bit and is waited for; it
 * suspends itself at its next {@link ThreadState#checkpoint()} and unparks the requester. A thread that attaches
 * during the pause sees {@code requested} after its CAS (Dekker pair with the requester's state read) and suspends.
 * Start: clear {@code requested}, then SUSPENDED → DETACHED and unpark each, then release the locks. The
 * requester's own thread state, if it belongs here, stays attached and is skipped; one whose thread died without
 * closing it counts as stopped until it is reaped ({@link ThreadReaper}: the reaper holds the head lock, so it works
 * between pauses or as the requester of one, and CLOSED states are neither stopped nor started).
 *
 * <p>A requester that is attached in another interpreter detaches there for the whole pause, from before it waits
 * for {@link #mutex} until the world starts again ({@link Interpreter#stopTheWorld()}): attached there, it could be
 * waited for by a requester of that interpreter that is itself attached here, while it waits for that one, and
 * neither reaches a checkpoint. Re-attaching before the start would only move the wait: each requester's state is
 * then suspended by the other's pause. The runtime-wide pause needs none of this (the requester is skipped in every
 * interpreter), and a requester attached here is skipped as well.
 */
final class StopTheWorld {

    private final Interpreter interp;
    /** One pause at a time in this interpreter. */
    final ReentrantLock mutex = new ReentrantLock();
    /** Written by the requester under {@link #mutex}; read by attaching and checkpointing threads. */
    private volatile boolean requested;
    /** The thread that holds the world stopped, or is stopping it; null otherwise. */
    private volatile Thread requester;
    /**
     * The requester's thread state in another interpreter, detached for the length of the pause
     * ({@link Interpreter#stopTheWorld()}); the requester only.
     */
    ThreadState detachedElsewhere;

    StopTheWorld(Interpreter interp) {
        this.interp = interp;
    }

    /** Whether a pause by another thread is requested or in force (read by attaching threads). */
    boolean stopsOthers() {
        return requested && requester != Thread.currentThread();
    }

    /** Whether {@code t} holds this interpreter's world stopped. */
    boolean stoppedBy(Thread t) {
        return requested && requester == t;
    }

    boolean isStopped() {
        return requested;
    }

    void notifyRequester() {
        Thread r = requester;
        if (r != null && requested) {
            LockSupport.unpark(r);
        }
    }

    /**
     * Takes the mutex, detaching the caller's attached thread state meanwhile (see class comment). A caller that
     * holds other interpreters' pauses waits only in id order (the order of {@link Runtime#stopTheWorld()}): the
     * holder of this mutex may be waiting for one of them.
     */
    void lockDetached() {
        if (mutex.tryLock()) {
            return;
        }
        checkWaitOrder();
        ThreadState self = interp.runtime.current();
        if (self != null) {
            self.detach();
        }
        mutex.lock();
        if (self != null) {
            self.attach(false);
        }
    }

    /**
     * Called before the calling thread waits for this interpreter's pause (its mutex, its head lock, or to attach
     * while its world is stopped): refused if the caller holds the pause of an interpreter with a higher id, whose
     * release this pause's holder may be waiting for. Waits happen only in id order, so no two threads wait for
     * each other's pauses.
     */
    void checkWaitOrder() {
        Interpreter higher = heldPauseAbove();
        if (higher != null) {
            throw new IllegalStateException("interpreter " + interp.id() + "'s pause is held by another thread, and "
                    + "the calling thread holds the pause of interpreter " + higher.id() + ": pauses nest in "
                    + "interpreter id order, else two threads could each wait for the other's");
        }
    }

    /**
     * Called before the calling thread attaches here: refused if it holds the pause of an interpreter with a higher
     * id. Attached, it would stop at a checkpoint for this interpreter's next pause, whose requester may then wait
     * for the pause the caller holds.
     */
    void checkAttachOrder() {
        if (!interp.runtime.holdsPause()) {
            return;
        }
        Interpreter higher = heldPauseAbove();
        if (higher != null) {
            throw new IllegalStateException("the calling thread holds the pause of interpreter " + higher.id()
                    + ": it may not attach in interpreter " + interp.id() + " (a lower id) until it starts that "
                    + "world, else a pause here could wait for it while it waits for this one");
        }
    }

    /** An interpreter with a higher id than ours whose world the calling thread holds stopped, or null. */
    Interpreter heldPauseAbove() {
        Thread me = Thread.currentThread();
        for (Interpreter other : interp.runtime.interpreters()) {
            if (other.id() > interp.id() && other.stw.stoppedBy(me)) {
                return other;
            }
        }
        return null;
    }

    /** Stops every thread of this interpreter but the caller; the caller must hold {@link #mutex}. */
    void stopLocked() {
        Thread me = Thread.currentThread();
        requester = me;
        requested = true;
        interp.runtime.pauseTaken();
        // partner: Interpreter.lockHead; an attached thread never blocks on this lock, so none we wait for waits here
        interp.headLock.lock();
        while (true) {
            int running = 0;
            for (ThreadState ts : interp.threadsSnapshotLocked()) {
                if (ts.thread == me) {
                    continue;
                }
                int s = ts.state();
                if (s == ThreadState.DETACHED) {
                    if (!ts.casState(ThreadState.DETACHED, ThreadState.SUSPENDED)) {
                        running++; // it attached meanwhile: look again
                    }
                } else if (s == ThreadState.ATTACHED && ts.thread.isAlive()) {
                    ts.requestStop();
                    running++;
                } else if (s == ThreadState.MERGING) {
                    running++; // another thread merges its queue: wait for it to put the thread back to DETACHED
                }
            }
            if (running == 0) {
                return;
            }
            // woken by a thread that suspends or detaches; the timeout covers a wake-up that raced with our scan
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /** Starts the world stopped by {@link #stopLocked()}; the caller still holds {@link #mutex}. */
    void startLocked() {
        requested = false;
        for (ThreadState ts : interp.threadsSnapshotLocked()) {
            if (ts.state() == ThreadState.SUSPENDED && ts.casState(ThreadState.SUSPENDED, ThreadState.DETACHED)) {
                LockSupport.unpark(ts.thread);
            }
        }
        requester = null;
        interp.runtime.pauseEnded();
        interp.headLock.unlock();
    }
}
