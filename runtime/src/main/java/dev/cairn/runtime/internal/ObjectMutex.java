package dev.cairn.runtime.internal;

import dev.cairn.segments.raw.Raw;

/**
 * The one-byte per-object lock at {@link ObjectLayout#OB_MUTEX} (CPython's PyMutex): bit 0 LOCKED, bit 1
 * HAS_PARKED. Lock: CAS 0→LOCKED; on contention spin a little while nobody is parked, then set HAS_PARKED and park
 * on the byte's address in the {@link ParkingLot}. Unlock: CAS LOCKED→0; with HAS_PARKED set, wake one waiter and,
 * under the bucket lock, leave HAS_PARKED set when more wait (pairs with the re-check in {@code park}). No hand-off:
 * a woken waiter competes again (no fairness timer, unlike CPython's 1 ms rule).
 *
 * <p>Callers that may park while bound to a thread state detach around it (see {@code ThreadState}), so a waiter
 * never holds up stop-the-world.
 */
public final class ObjectMutex {

    public static final byte LOCKED = 1;
    public static final byte HAS_PARKED = 2;
    private static final int SPINS = 40;

    private ObjectMutex() {
    }

    /** One attempt: true if the lock was free and is now held. */
    public static boolean tryLock(long obj) {
        return Raw.casByte(obj + ObjectLayout.OB_MUTEX, (byte) 0, LOCKED);
    }

    /** Contended path: spin, then park until the lock is ours. {@code beforePark}/{@code afterPark} may be null. */
    public static void lockSlow(long obj, Runnable beforePark, Runnable afterPark) {
        long addr = obj + ObjectLayout.OB_MUTEX;
        int spins = 0;
        while (true) {
            byte v = Raw.getByteVolatile(addr);
            if ((v & LOCKED) == 0) {
                // keep HAS_PARKED if set: other waiters still need waking at our unlock
                if (Raw.casByte(addr, v, (byte) (v | LOCKED))) {
                    return;
                }
                continue;
            }
            if ((v & HAS_PARKED) == 0 && spins++ < SPINS) {
                Thread.yield();
                continue;
            }
            if ((v & HAS_PARKED) == 0 && !Raw.casByte(addr, v, (byte) (v | HAS_PARKED))) {
                continue;
            }
            if (beforePark != null) {
                beforePark.run();
            }
            // pairs with unlock's unparkOne: the byte is re-read under the bucket lock
            ParkingLot.park(addr, () -> Raw.getByteVolatile(addr) == (LOCKED | HAS_PARKED));
            if (afterPark != null) {
                afterPark.run();
            }
        }
    }

    public static void unlock(long obj) {
        long addr = obj + ObjectLayout.OB_MUTEX;
        if (Raw.casByte(addr, LOCKED, (byte) 0)) {
            return;
        }
        byte v = Raw.getByteVolatile(addr);
        if ((v & LOCKED) == 0) {
            throw new IllegalMonitorStateException("object mutex at 0x" + Long.toHexString(obj) + " is not locked");
        }
        // pairs with park's re-check: the new byte value is stored under the bucket lock
        ParkingLot.unparkOne(addr, more -> Raw.putByteVolatile(addr, more ? HAS_PARKED : 0));
    }

    public static boolean isLocked(long obj) {
        return (Raw.getByteVolatile(obj + ObjectLayout.OB_MUTEX) & LOCKED) != 0;
    }
}
