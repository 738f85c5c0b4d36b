package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
        Thread a = Thread.ofPlatform().daemon().start(() -> nest(low, high, bothHoldTheirs, lowFirst, null, null));
        Thread b = Thread.ofPlatform().daemon().start(() -> nest(high, low, bothHoldTheirs, highFirst, dump, null));
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
            AtomicReference<Throwable> error, Path dump, CountDownLatch before) {
        try (ThreadState ts = first.newThreadState()) {
            if (before != null) {
                before.await(10, TimeUnit.SECONDS);
            }
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
    /**
     * The same with the second wait a join: the thread holding the higher pause makes or attaches a thread state in
     * the lower interpreter, whose world the other thread holds stopped while it waits for the higher pause.
     */
    @Test
    void joiningAStoppedInterpreterWhileHoldingAHigherPauseDoesNotDeadlock() throws Exception {
        for (boolean attach : new boolean[] {false, true}) {
            Runtime rt = Runtime.create(); // not closed on failure, as above
            Interpreter low = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter high = rt.newInterpreter(InterpreterConfig.isolated());
            CyclicBarrier bothHoldTheirs = new CyclicBarrier(2);
            AtomicReference<Throwable> lowFirst = new AtomicReference<>();
            AtomicReference<Throwable> highFirst = new AtomicReference<>();
            CountDownLatch joined = new CountDownLatch(1); // b's state in low exists before low stops
            Thread a = Thread.ofPlatform().daemon().start(
                    () -> nest(low, high, bothHoldTheirs, lowFirst, null, joined));
            Thread b = Thread.ofPlatform().daemon().start(() -> {
                try {
                    ThreadState there = attach ? low.newThreadState() : null;
                    if (there != null) {
                        there.detach();
                    }
                    joined.countDown();
                    try (ThreadState ts = high.newThreadState()) {
                        high.stopTheWorld();
                        try {
                            bothHoldTheirs.await(10, TimeUnit.SECONDS);
                            ts.detach();
                            try {
                                if (there != null) {
                                    there.attach(); // waits for low's pause
                                } else {
                                    there = low.newThreadState(); // likewise
                                }
                            } finally {
                                ts.attach();
                            }
                        } finally {
                            high.startTheWorld();
                        }
                    } finally {
                        if (there != null) {
                            there.close();
                        }
                    }
                } catch (Throwable e) {
                    highFirst.set(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            a.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            b.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            String how = attach ? "attach" : "newThreadState";
            assertFalse(a.isAlive() || b.isAlive(), how + ": deadlock, each thread waits for the other's pause");
            assertNull(lowFirst.get(), how);
            assertInstanceOf(IllegalStateException.class, highFirst.get(), how);
            assertEquals(0, low.release().orElseThrow().leakedObjects());
            assertEquals(0, high.release().orElseThrow().leakedObjects());
            rt.close();
        }
    }
    /**
     * A thread holding a higher interpreter's pause that attaches in a lower one, not stopped yet, would later be
     * suspended there at a checkpoint by a thread that stops the lower interpreter and then waits for the higher
     * pause: the attach itself is refused.
     */
    @Test
    void attachingInALowerInterpreterWhileHoldingAHigherPauseIsRefused() throws Exception {
        Runtime rt = Runtime.create(); // not closed on failure, as above
        Interpreter low = rt.newInterpreter(InterpreterConfig.sharedAllocator());
        Interpreter high = rt.newInterpreter(InterpreterConfig.isolated());
        CountDownLatch triedToAttach = new CountDownLatch(1);
        AtomicBoolean stopperDone = new AtomicBoolean();
        AtomicReference<Throwable> holderError = new AtomicReference<>();
        AtomicReference<Throwable> stopperError = new AtomicReference<>();
        Thread holder = Thread.ofPlatform().daemon().start(() -> {
            try {
                ThreadState inLow = low.newThreadState();
                inLow.detach();
                try (ThreadState inHigh = high.newThreadState()) {
                    high.stopTheWorld();
                    try {
                        inHigh.detach();
                        try {
                            inLow.attach();
                            triedToAttach.countDown();
                            while (!stopperDone.get()) {
                                inLow.checkpoint(); // suspended here by the stopper's pause of low
                                Thread.onSpinWait();
                            }
                            inLow.detach();
                        } finally {
                            triedToAttach.countDown();
                            inHigh.attach();
                        }
                    } finally {
                        high.startTheWorld();
                    }
                }
                inLow.attach();
                inLow.close();
            } catch (Throwable e) {
                holderError.set(e);
            }
        });
        Thread stopper = Thread.ofPlatform().daemon().start(() -> {
            try (ThreadState ts = low.newThreadState()) {
                ts.detach();
                triedToAttach.await(10, TimeUnit.SECONDS);
                ts.attach();
                low.stopTheWorld();
                try {
                    high.stopTheWorld();
                    high.startTheWorld();
                } finally {
                    low.startTheWorld();
                    stopperDone.set(true);
                }
            } catch (Throwable e) {
                stopperError.set(e);
                stopperDone.set(true);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        holder.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        stopper.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        assertFalse(holder.isAlive() || stopper.isAlive(), "deadlock: the holder of high's pause is suspended in "
                + "low, whose stopper waits for high's pause");
        assertInstanceOf(IllegalStateException.class, holderError.get(), "attach in low while holding high's pause");
        assertNull(stopperError.get());
        assertEquals(0, low.release().orElseThrow().leakedObjects());
        assertEquals(0, high.release().orElseThrow().leakedObjects());
        rt.close();
    }
}
