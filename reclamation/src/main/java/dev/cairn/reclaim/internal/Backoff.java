package dev.cairn.reclaim.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * Idling for a thread that waits for other threads to pass a quiescent point: a few spins (readers usually pass
 * within microseconds), then yields, then parks with a doubling pause capped at {@link #MAX_PARK_NANOS}.
 * One instance per wait; not shared.
 *
 * <p>Interrupts: the waits it serves cannot be abandoned (a writer holding memory back must get under its limit,
 * {@code synchronize()} promises its goal), and {@code parkNanos} returns at once while the thread's interrupt flag
 * is set, which turned an interrupted waiter into a hot spin. So it clears the flag before parking and
 * {@link #restoreInterrupt()}, called when the wait ends, sets it again: the wait is uninterruptible, the interrupt
 * is kept for the caller, as {@code Condition.awaitUninterruptibly} does.
 */
final class Backoff {

    private static final int SPINS = 64;
    private static final int YIELDS = 16;
    private static final long MIN_PARK_NANOS = 1_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private int step;
    private long parkNanos = MIN_PARK_NANOS;
    private boolean interrupted;

    void idle() {
        if (step < SPINS) {
            Thread.onSpinWait();
        } else if (step < SPINS + YIELDS) {
            Thread.yield();
        } else {
            interrupted |= Thread.interrupted();
            LockSupport.parkNanos(parkNanos);
            parkNanos = Math.min(MAX_PARK_NANOS, parkNanos * 2);
        }
        step++;
    }

    /** Ends the wait: sets the interrupt flag again if {@link #idle()} cleared it. */
    void restoreInterrupt() {
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
