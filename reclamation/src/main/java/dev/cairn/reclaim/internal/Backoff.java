package dev.cairn.reclaim.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * Idling for a thread that waits for other threads to pass a quiescent point: a few spins (readers usually pass
 * within microseconds), then yields, then parks with a doubling pause capped at {@link #MAX_PARK_NANOS}.
 * One instance per wait; not shared.
 */
final class Backoff {

    private static final int SPINS = 64;
    private static final int YIELDS = 16;
    private static final long MIN_PARK_NANOS = 1_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private int step;
    private long parkNanos = MIN_PARK_NANOS;

    void idle() {
        if (step < SPINS) {
            Thread.onSpinWait();
        } else if (step < SPINS + YIELDS) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(parkNanos);
            parkNanos = Math.min(MAX_PARK_NANOS, parkNanos * 2);
        }
        step++;
    }
}
