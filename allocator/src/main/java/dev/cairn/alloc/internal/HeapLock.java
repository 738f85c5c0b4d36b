package dev.cairn.alloc.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The lock of a heap that many threads use in turn (a virtual threads' {@link SharedHeap}, a shared arena's heap):
 * reentrant, owned by a thread, and cheap to let go when nobody waits, which is nearly always.
 *
 * <p>Why not {@link java.util.concurrent.locks.ReentrantLock}: its unlock is a volatile store, a full fence on x86-64
 * that waits for the store buffer to drain. A virtual thread's malloc and a free of a shared heap's block each take
 * and let go of a heap's lock, and a JFR profile of one virtual thread's free+malloc loop put 18% of all samples on
 * that store (docs/benchmarks.md, "A cheaper lock for shared heaps"). Here the unlock is a release store.
 *
 * <p>Protocol: {@link #state} is 0 (free) or 1 (held); {@link #tryLock} takes it with a CAS, {@link #unlock} gives it
 * back with a release store, which orders the holder's writes before the next holder's CAS reads the 0. A thread that
 * must wait ({@link #lock}) spins briefly, then counts itself in {@link #waiterCount}, queues itself and parks. An
 * unlock that sees a waiter counted unparks the first queued one. Without a fence between the unlock's store and its
 * read of the count, a waiter that counted itself just then can be missed (it read the state as held, the holder read
 * the count as zero): so a waiter parks for a bounded time ({@link #PARK_NANOS}, doubling up to
 * {@link #MAX_PARK_NANOS}) and then tries again. A missed wakeup costs that waiter at most that long; a wakeup that is
 * not missed is as prompt as {@code ReentrantLock}'s.
 *
 * <p>Interrupts: {@link #lock} is not interruptible, as {@code ReentrantLock.lock} is not. A waiter whose interrupt flag
 * is set clears it while it parks and sets it again once it holds the lock: a park returns at once while the flag is
 * set, and a waiter that kept it would spin. A virtual thread spinning so keeps its carrier from the holder it waits
 * for (the torture test's interrupted virtual threads slowed it from 20 to 80 s, and it failed).
 *
 * <p>Reentrancy and ownership: {@link #owner} and {@link #holds} are written only by the holder. Another thread reading
 * {@link #owner} may see an old value, but never itself unless it holds the lock (its own last write to it was its
 * own, or null when it let go).
 */
final class HeapLock {

    /**
     * A waiter's first sleep before it looks again; each later one doubles, up to {@link #MAX_PARK_NANOS}. Wakeups come
     * from unlocks; the timeout only bounds a missed one (see the protocol), and the doubling keeps many waiters of a
     * busy lock from waking 20,000 times a second each.
     */
    static final long PARK_NANOS = 50_000;
    static final long MAX_PARK_NANOS = 1_000_000;
    /** Tries before a waiter queues itself: a call holds a shared heap for well under a microsecond. */
    private static final int SPINS = 64;

    private static final VarHandle STATE;
    private static final VarHandle WAITERS;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(HeapLock.class, "state", int.class);
            WAITERS = lookup.findVarHandle(HeapLock.class, "waiterCount", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through STATE
    private int state;
    /**
     * How many threads are in {@link #waiting}: the queue could tell, but the count sits beside {@link #state}, so an
     * unlock with nobody waiting reads one field of a line it holds already instead of walking into the queue's nodes.
     */
    @SuppressWarnings("unused") // through WAITERS
    private int waiterCount;
    private Thread owner;
    private int holds;
    private final ConcurrentLinkedQueue<Thread> waiting = new ConcurrentLinkedQueue<>();

    /** Takes the lock if it is free or the caller holds it already; never waits. */
    boolean tryLock() {
        Thread me = Thread.currentThread();
        if (owner == me) {
            holds++;
            return true;
        }
        if (!STATE.compareAndSet(this, 0, 1)) {
            return false;
        }
        owner = me;
        holds = 1;
        return true;
    }

    /** Takes the lock, waiting for it as long as it takes. */
    void lock() {
        if (tryLock()) {
            return;
        }
        for (int spin = 0; spin < SPINS; spin++) {
            Thread.onSpinWait();
            if ((int) STATE.getOpaque(this) == 0 && tryLock()) {
                return;
            }
        }
        Thread me = Thread.currentThread();
        waiting.add(me);
        WAITERS.getAndAdd(this, 1); // a full fence: the count is visible before the state is read again
        boolean interrupted = false;
        long park = PARK_NANOS;
        try {
            while (!tryLock()) {
                LockSupport.parkNanos(this, park);
                park = Math.min(2 * park, MAX_PARK_NANOS);
                // A park returns at once while the interrupt flag is set: kept set, a waiter would spin, and a
                // virtual one would hold its carrier from the holder it waits for. Cleared here, set again below.
                interrupted |= Thread.interrupted();
            }
        } finally {
            WAITERS.getAndAdd(this, -1);
            waiting.remove(me);
            if (interrupted) {
                me.interrupt();
            }
        }
    }

    /** Lets go of one hold; the last one frees the lock and wakes a waiter, if one is counted. */
    void unlock() {
        if (owner != Thread.currentThread()) {
            throw new IllegalMonitorStateException("not held by " + Thread.currentThread());
        }
        if (--holds > 0) {
            return;
        }
        owner = null;
        STATE.setRelease(this, 0);
        if ((int) WAITERS.getOpaque(this) != 0) {
            Thread next = waiting.peek();
            if (next != null) {
                LockSupport.unpark(next);
            }
        }
    }

    boolean isHeldByCurrentThread() {
        return owner == Thread.currentThread();
    }
}
