package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Probes of destruction racing with threads that join, and with the runtime's close. */
class LifecycleRaceProbeTest {

    @Test
    void aThreadStateIsNeverMadeInAnInterpreterBeingDestroyed() throws Exception {
        try (Runtime rt = Runtime.create()) {
            AtomicInteger joinedLate = new AtomicInteger();
            for (int round = 0; round < 100; round++) {
                Interpreter in = rt.newInterpreter(round % 2 == 0 ? InterpreterConfig.isolated()
                        : InterpreterConfig.sharedAllocator());
                ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                AtomicBoolean destroyed = new AtomicBoolean();
                CountDownLatch go = new CountDownLatch(1);
                Thread joiner = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        go.await();
                        while (true) {
                            ThreadState ts;
                            try {
                                ts = in.newThreadState();
                            } catch (IllegalStateException refused) {
                                return; // destroyed: the clear refusal we want
                            }
                            try {
                                if (destroyed.get()) {
                                    joinedLate.incrementAndGet();
                                    errors.add(new AssertionError("a thread state of a destroyed interpreter"));
                                }
                                long s = Strs.of(ts, "joiner");
                                Ref.decref(ts, s);
                            } finally {
                                ts.close();
                            }
                        }
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
                go.countDown();
                while (true) {
                    try {
                        in.destroy();
                        destroyed.set(true);
                        break;
                    } catch (IllegalStateException busy) {
                        Thread.onSpinWait(); // the joiner has a thread state open now: try again
                    }
                }
                joiner.join(30_000);
                assertFalse(joiner.isAlive(), "joiner hung");
                if (!errors.isEmpty()) {
                    AssertionError e = new AssertionError("round " + round);
                    errors.forEach(e::addSuppressed);
                    throw e;
                }
            }
            assertEquals(0, joinedLate.get());
        }
    }

    @Test
    void closingTheRuntimeWhileAnotherThreadDestroysAnInterpreter() throws Exception {
        for (int round = 0; round < 40; round++) {
            Runtime rt = Runtime.create();
            Interpreter in = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            try (ThreadState ts = in.newThreadState()) {
                for (int i = 0; i < 200; i++) {
                    long l = Lists.create(ts);
                    Lists.append(ts, l, l); // garbage for the last collection to find
                    Ref.decref(ts, l);
                }
            }
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CountDownLatch go = new CountDownLatch(1);
            Thread releaser = Thread.ofPlatform().daemon().start(() -> {
                try {
                    go.await();
                    in.release();
                } catch (IllegalStateException refusedClearly) {
                    // the runtime closed it first: acceptable
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
            Throwable[] closeFailure = new Throwable[1];
            // on a thread of its own: close and the destruction used to take each other's monitors in opposite
            // orders, and a test that hangs would hold up the whole suite
            Thread closer = Thread.ofPlatform().daemon().start(() -> {
                try {
                    go.await();
                    rt.close();
                } catch (Throwable t) {
                    closeFailure[0] = t;
                }
            });
            go.countDown();
            closer.join(30_000);
            releaser.join(30_000);
            assertFalse(closer.isAlive(), "round " + round + ": close and destroy deadlocked");
            assertFalse(releaser.isAlive(), "round " + round + ": close and destroy deadlocked");
            if (closeFailure[0] != null) {
                rt.close();
                throw new AssertionError("round " + round + ": close failed while the interpreter was being "
                        + "destroyed", closeFailure[0]);
            }
            assertTrue(errors.isEmpty(), () -> errors.toString());
            assertTrue(in.isDestroyed());
            assertThrows(IllegalStateException.class, in::acquire, "round " + round);
        }
    }

    @Test
    void aRefusedCloseRacingWithJoiningThreadsDestroysNothing() throws Exception {
        for (int round = 0; round < 30; round++) {
            Runtime rt = Runtime.create();
            Interpreter[] ins = new Interpreter[4];
            for (int i = 0; i < ins.length; i++) {
                ins[i] = rt.newInterpreter(i % 2 == 0 ? InterpreterConfig.isolated()
                        : InterpreterConfig.sharedAllocator());
            }
            Interpreter last = ins[ins.length - 1];
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            Thread joiner = Thread.ofPlatform().daemon().start(() -> {
                while (!stop.get()) {
                    try (ThreadState ts = last.newThreadState()) {
                        Ref.decref(ts, Strs.of(ts, "joiner"));
                    } catch (IllegalStateException closedMeanwhile) {
                        return;
                    } catch (Throwable t) {
                        errors.add(t);
                        return;
                    }
                }
            });
            boolean closed = false;
            for (int attempt = 0; attempt < 1000 && !closed; attempt++) {
                try {
                    rt.close();
                    closed = true;
                } catch (IllegalStateException refused) {
                    // refused: then nothing may have been destroyed
                    for (Interpreter in : ins) {
                        assertFalse(in.isDestroyed(), "round " + round + ": a refused close destroyed "
                                + in + ": " + refused.getMessage());
                    }
                }
            }
            stop.set(true);
            joiner.join(30_000);
            assertFalse(joiner.isAlive());
            if (!closed) {
                rt.close();
            }
            assertTrue(errors.isEmpty(), () -> errors.toString());
        }
    }

    @Test
    void noInterpreterOutlivesTheCloseOfItsRuntime() throws Exception {
        for (int round = 0; round < 40; round++) {
            Runtime rt = Runtime.create();
            java.util.List<Interpreter> made = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            CountDownLatch started = new CountDownLatch(1);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            int r = round;
            Thread maker = Thread.ofPlatform().daemon().start(() -> {
                while (true) {
                    Interpreter in;
                    try {
                        in = rt.newInterpreter(r % 2 == 0 ? InterpreterConfig.isolated()
                                : InterpreterConfig.sharedAllocator());
                    } catch (IllegalStateException closed) {
                        return; // the clear refusal
                    } catch (Throwable t) {
                        errors.add(t);
                        return;
                    } finally {
                        started.countDown();
                    }
                    made.add(in);
                }
            });
            started.await();
            rt.close();
            maker.join(30_000);
            assertFalse(maker.isAlive());
            assertTrue(errors.isEmpty(), () -> errors.toString());
            for (Interpreter in : made) {
                assertTrue(in.isDestroyed(), "round " + round + ": " + in + " was made by a closing runtime and "
                        + "outlived it");
            }
        }
    }

    @Test
    void aDumpRacingWithDestructionIsRefusedOrComplete(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (Runtime rt = Runtime.create()) {
            for (int round = 0; round < 30; round++) {
                Interpreter in = rt.newInterpreter(round % 3 == 2 ? InterpreterConfig.sharedAllocator()
                        : InterpreterConfig.isolated());
                try (ThreadState ts = in.newThreadState()) {
                    for (int i = 0; i < 3000; i++) {
                        Strs.of(ts, "leaked " + i); // for destruction to free while a dump walks
                    }
                }
                ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                CountDownLatch go = new CountDownLatch(1);
                java.nio.file.Path file = dir.resolve("d" + round + ".cdump");
                Thread dumper = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        go.await();
                        while (true) {
                            in.dumpHeap(file);
                        }
                    } catch (IllegalStateException destroyed) {
                        // the clear refusal once it is gone
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
                go.countDown();
                Thread.sleep(round % 4);
                assertEquals(3000, in.destroy().leakedObjects());
                dumper.join(30_000);
                assertFalse(dumper.isAlive());
                assertTrue(errors.isEmpty(), () -> errors.toString());
            }
        }
    }
}
