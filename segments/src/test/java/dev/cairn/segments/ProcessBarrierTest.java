package dev.cairn.segments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.segments.internal.Platform;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.junit.jupiter.api.Test;

/**
 * The asymmetric barrier, as a store-buffering litmus test run many times: the hot thread stores x (opaque, no fence)
 * and loads y; the other stores y, runs {@link ProcessBarrier#run()}, and loads x. Both loads reading 0 is what a
 * store buffer allows without a barrier on either side, and what the barrier forbids. The same race with the other
 * side's barrier left out is run as a control and printed: it shows how often this machine lets the outcome through.
 */
class ProcessBarrierTest {

    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int TRIALS = 20_000;

    @Test
    void runWorksWhereAvailableAndSaysWhyWhereNot() {
        if (ProcessBarrier.available()) {
            ProcessBarrier.run(); // does not throw
            ProcessBarrier.run();
        } else { // not Linux x86_64/aarch64, a kernel before 4.14, or a seccomp filter that refuses membarrier
            IllegalStateException e = assertThrows(IllegalStateException.class, ProcessBarrier::run);
            assertTrue(e.getMessage().contains("membarrier"), e.getMessage());
        }
        System.out.println("ProcessBarrierTest: membarrier available: " + ProcessBarrier.available() + " on "
                + Platform.describe());
    }

    @Test
    void theFencelessSideNeverMissesAStoreMadeBeforeTheBarrier() throws InterruptedException {
        assumeTrue(ProcessBarrier.available());
        long withBarrier = race(true);
        long control = race(false);
        System.out.printf("ProcessBarrierTest: both loads read 0 in %d of %d trials with the barrier, %d without%n",
                withBarrier, TRIALS, control);
        assertEquals(0, withBarrier);
    }

    /**
     * Trials in which both sides read 0. Per trial both threads meet at a spin barrier (cell 32 counts arrivals) and
     * then race: cells 0 (x) and 16 (y) are on lines of their own.
     */
    private static long race(boolean barrier) throws InterruptedException {
        long[] cells = new long[64];
        long[] hotReads = new long[TRIALS];
        long[] otherReads = new long[TRIALS];
        Thread hot = Thread.ofPlatform().start(() -> {
            for (int t = 1; t <= TRIALS; t++) {
                meet(cells, t);
                CELLS.setOpaque(cells, 0, (long) t); // x = t, no fence
                hotReads[t - 1] = (long) CELLS.getOpaque(cells, 16); // y
            }
        });
        for (int t = 1; t <= TRIALS; t++) {
            meet(cells, t);
            CELLS.setOpaque(cells, 16, (long) t); // y = t
            if (barrier) {
                ProcessBarrier.run();
            } else {
                VarHandle.releaseFence(); // keeps the JIT's order; no CPU fence on x86
            }
            otherReads[t - 1] = (long) CELLS.getOpaque(cells, 0); // x
        }
        hot.join();
        long both = 0;
        for (int t = 1; t <= TRIALS; t++) {
            if (hotReads[t - 1] < t && otherReads[t - 1] < t) { // neither saw the other's store of this trial
                both++;
            }
        }
        return both;
    }

    /** Both threads arrive (cell 32 reaches 2t) before either goes on into trial t. */
    private static void meet(long[] cells, int t) {
        CELLS.getAndAdd(cells, 32, 1L);
        while ((long) CELLS.getVolatile(cells, 32) < 2L * t) {
            Thread.onSpinWait();
        }
    }
}
