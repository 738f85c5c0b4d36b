package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread that holds one interpreter's pause and asks for another's (stopTheWorld, a dump), while a
 * second thread does the same the other way round: each would wait forever for the lock the other holds.
 * Pauses nest only in interpreter id order (the order Runtime.stopTheWorld and dumps take them); the other order is
 * refused, so the two can never wait for each other.
 */
class NestedPauseProbeTest {

    @TempDir
    Path dir;

    @Test
    void pausesNestedInOppositeOrdersOnTwoThreadsDoNotDeadlock() throws Exception {
        // not closed on failure: a deadlocked pause keeps its locks, and close would wait for them forever
        Runtime rt = Runtime.create();
        Interpreter low = rt.newInterpreter(InterpreterConfig.isolated());
        Interpreter high = rt.newInterpreter(InterpreterConfig.sharedAllocator());
        CyclicBarrier bothHoldTheirs = new CyclicBarrier(2);
        AtomicReference<Throwable> lowFirst = new AtomicReference<>();
        AtomicReference<Throwable> highFirst = new AtomicReference<>();
        Path dump = dir.resolve("low.cdump");
        Thread a = Thread.ofPlatform().daemon().start(() -> nest(low, high, bothHoldTheirs, lowFirst, null));
        Thread b = Thread.ofPlatform().daemon().start(() -> nest(high, low, bothHoldTheirs, highFirst, dump));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        a.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        b.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        assertFalse(a.isAlive() || b.isAlive(), "deadlock: each thread waits for the pause the other holds");
        assertNull(lowFirst.get(), "taking a higher id's pause inside a lower one's is the order pauses nest in");
        assertInstanceOf(IllegalStateException.class, highFirst.get(), "a lower id's pause inside a higher one's");
        // the refusal left everything usable: both interpreters stop, collect and die normally
        try (ThreadState ts = high.newThreadState()) {
            assertEquals(0, Gc.collect(ts));
        }
        rt.stopTheWorld();
        rt.startTheWorld();
        assertEquals(0, low.release().orElseThrow().leakedObjects());
        assertEquals(0, high.release().orElseThrow().leakedObjects());
        rt.close();
    }

    /** Holds {@code first}'s pause (attached there) and stops {@code second} too, or dumps it. */
    private static void nest(Interpreter first, Interpreter second, CyclicBarrier barrier,
            AtomicReference<Throwable> error, Path dump) {
        try (ThreadState ts = first.newThreadState()) {
            first.stopTheWorld();
            try {
                barrier.await(10, TimeUnit.SECONDS);
                if (dump != null) {
                    second.dumpHeap(dump);
                } else {
                    second.stopTheWorld();
                    second.startTheWorld();
                }
            } finally {
                first.startTheWorld();
            }
        } catch (Throwable e) {
            error.set(e);
        }
    }
}
