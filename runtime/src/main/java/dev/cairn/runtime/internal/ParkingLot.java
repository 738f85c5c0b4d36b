package dev.cairn.runtime.internal;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Threads waiting on an address, in 257 buckets hashed by address (a prime, as CPython's parking lot), so that a
 * one-byte lock needs no waiter list of its own.
 *
 * <p>Protocol (futex-like): {@link #park} re-checks its condition under the bucket's monitor before it queues, and
 * {@link #unparkOne} dequeues under the same monitor, so a wake-up between the caller's check and its queueing is
 * never lost. Each waiter parks on its own {@code woken} flag, written under the bucket monitor and read after
 * {@link LockSupport#park} returns (spurious wake-ups loop).
 */
public final class ParkingLot {

    private static final int BUCKETS = 257;
    private static final Bucket[] TABLE = new Bucket[BUCKETS];

    static {
        for (int i = 0; i < BUCKETS; i++) {
            TABLE[i] = new Bucket();
        }
    }

    private ParkingLot() {
    }

    private static final class Bucket {
        /** Guarded by this bucket's monitor. */
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    }

    private static final class Waiter {
        final long addr;
        final Thread thread = Thread.currentThread();
        /** Written under the bucket monitor by the unparker. */
        volatile boolean woken;

        Waiter(long addr) {
            this.addr = addr;
        }
    }

    private static Bucket bucket(long addr) {
        return TABLE[(int) Long.remainderUnsigned(addr >>> 4, BUCKETS)];
    }

    /**
     * Parks the calling thread on {@code addr} if {@code stillWait} holds under the bucket lock; returns when
     * unparked (or at once when the condition no longer held).
     */
    public static void park(long addr, BooleanSupplier stillWait) {
        Bucket b = bucket(addr);
        Waiter w = new Waiter(addr);
        synchronized (b) {
            if (!stillWait.getAsBoolean()) {
                return;
            }
            b.waiters.addLast(w);
        }
        while (!w.woken) {
            LockSupport.park(b);
        }
    }

    /**
     * Wakes the longest waiter on {@code addr}, if any; {@code afterUnpark} runs under the bucket lock with whether
     * more waiters on this address remain, so the caller can set its lock byte before anyone else can park.
     */
    public static void unparkOne(long addr, java.util.function.Consumer<Boolean> afterUnpark) {
        Bucket b = bucket(addr);
        Waiter found = null;
        boolean more = false;
        synchronized (b) {
            for (Iterator<Waiter> it = b.waiters.iterator(); it.hasNext();) {
                Waiter w = it.next();
                if (w.addr != addr) {
                    continue;
                }
                if (found == null) {
                    found = w;
                    it.remove();
                } else {
                    more = true;
                    break;
                }
            }
            afterUnpark.accept(more);
            if (found != null) {
                found.woken = true;
            }
        }
        if (found != null) {
            LockSupport.unpark(found.thread);
        }
    }
}
