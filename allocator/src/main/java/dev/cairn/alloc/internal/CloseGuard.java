package dev.cairn.alloc.internal;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What {@code Allocator.close()} waits for before it gives the memory back, so that a thread still inside a call
 * when another thread closes the allocator gets an {@link IllegalStateException}, never a JVM crash.
 *
 * <p>Two kinds of work can be in flight when close starts (design: docs/design/allocator.md §7):
 * <ul>
 *   <li><b>Slow paths</b> (the malloc slow path, a free that empties a page or ends a huge block, delayed frees run
 *       by QSBR, collect, release, reallocation): long, they follow pointers read from page metadata, and may run
 *       system calls or wait for the Java heap. Each runs between {@link #enter} and {@link #exit}: it counts
 *       itself in one of {@link #STRIPES} padded counters (chosen by thread id), fences, then reads
 *       {@link #closing}, throwing if set. Close sets {@link #closing}, fences, and waits until it has seen every
 *       counter at zero once ({@link #closeAndAwait}). Dekker's pattern: either close sees the count and waits for
 *       the exit, or the slow path sees the flag and touches nothing.</li>
 *   <li><b>Fast paths</b> (the malloc pop, the free push) are not counted: two atomics per call would double their
 *       cost. They are a few dozen instructions that read page metadata and write only inside the block's own
 *       segment, and every pointer they follow is either proven inside that segment or read from a field that is
 *       zero in retired memory and tested before use. So close, once the slow paths are out, replaces every segment
 *       with zero pages instead of unmapping it ({@code SegmentSpace.retire()}): a fast path that read the
 *       metadata before sees old values, one that reads after sees zeros, which send it to the slow path, whose
 *       {@link #enter} refuses. The addresses are unmapped only when the allocator itself is unreachable (a
 *       {@link java.lang.ref.Cleaner}), when no thread can be inside a call any more.</li>
 * </ul>
 * No guarded section runs user code (QSBR's deferred tasks run outside them), so close never waits for itself.
 */
final class CloseGuard {

    /** Counters of slow paths in flight (a power of two), each on a line of its own. */
    private static final int STRIPES = 16;
    private static final int SPACING = 16; // longs: 128 bytes

    private final AtomicLongArray inFlight = new AtomicLongArray(STRIPES * SPACING);
    private volatile boolean closing;

    /** Starts a slow path; returns the token for {@link #exit}. Throws, counting nothing, once close has begun. */
    int enter() {
        int stripe = tryEnter();
        if (stripe < 0) {
            throw Errors.closed();
        }
        return stripe;
    }

    /** As {@link #enter}, for work that close makes moot: -1, counting nothing, once close has begun. */
    int tryEnter() {
        int stripe = ((int) Thread.currentThread().threadId() & (STRIPES - 1)) * SPACING;
        inFlight.getAndIncrement(stripe);
        VarHandle.fullFence(); // the count before the flag; partner: closeAndAwait
        if (closing) {
            inFlight.getAndDecrement(stripe);
            return -1;
        }
        return stripe;
    }

    void exit(int stripe) {
        inFlight.getAndDecrement(stripe); // after the slow path's last access to the allocator's memory
    }

    /** Refuses every later slow path and waits until those in flight have left. */
    void closeAndAwait() {
        closing = true;
        VarHandle.fullFence(); // the flag before the counts; partner: enter
        for (int stripe = 0; stripe < STRIPES * SPACING; stripe += SPACING) {
            while (inFlight.get(stripe) != 0) {
                Thread.yield();
            }
        }
    }
}
