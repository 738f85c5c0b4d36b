package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/** Stop-the-world: attached threads stop at checkpoints, detached ones count as stopped and wait to attach. */
class StopTheWorldTest {

    @Test
    void attachedThreadsStopAtCheckpointsAndDetachedOnesWaitToAttach() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            int workers = 3;
            AtomicLongArray progress = new AtomicLongArray(workers);
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch running = new CountDownLatch(workers + 1);
            CountDownLatch detached = new CountDownLatch(1);
            AtomicBoolean attachedWhileStopped = new AtomicBoolean();
            AtomicBoolean worldStopped = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int me = w;
                threads.add(Thread.ofPlatform().start(() -> {
                    try (ThreadState ts = interp.newThreadState()) {
                        running.countDown();
                        while (!stop.get()) {
                            long x = Ints.of(ts, 1000 + me);
                            Ref.decref(ts, x);
                            progress.incrementAndGet(me);
                            ts.checkpoint();
                        }
                    }
                }));
            }
            // a thread that is detached when the world stops: it must not get in until the world starts
            Thread sleeper = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    ts.detach();
                    running.countDown();
                    detached.await();
                    ts.attach();
                    attachedWhileStopped.set(worldStopped.get());
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            assertTrue(running.await(30, TimeUnit.SECONDS));
            interp.stopTheWorld();
            worldStopped.set(true);
            long[] before = snapshot(progress);
            detached.countDown();
            Thread.sleep(100);
            long[] after = snapshot(progress);
            assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(after), "nobody ran");
            assertTrue(sleeper.isAlive(), "the detached thread waits to attach");
            worldStopped.set(false);
            interp.startTheWorld();
            sleeper.join(30_000);
            assertFalse(attachedWhileStopped.get());
            Thread.sleep(50);
            long[] later = snapshot(progress);
            for (int w = 0; w < workers; w++) {
                assertTrue(later[w] > after[w], "worker " + w + " runs again");
            }
            assertThrows(IllegalStateException.class, interp::startTheWorld);
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void runtimeWideStopCoversEveryInterpreter() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter b = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            AtomicLongArray progress = new AtomicLongArray(2);
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch running = new CountDownLatch(2);
            List<Thread> threads = new ArrayList<>();
            Interpreter[] interps = {a, b};
            for (int w = 0; w < 2; w++) {
                int me = w;
                threads.add(Thread.ofPlatform().start(() -> {
                    try (ThreadState ts = interps[me].newThreadState()) {
                        running.countDown();
                        while (!stop.get()) {
                            progress.incrementAndGet(me);
                            ts.checkpoint();
                        }
                    }
                }));
            }
            assertTrue(running.await(30, TimeUnit.SECONDS));
            // the requester may itself be attached in one of them: it stays running
            try (ThreadState mine = rt.mainInterpreter().newThreadState()) {
                rt.stopTheWorld();
                long[] before = snapshot(progress);
                Thread.sleep(100);
                assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(snapshot(progress)));
                long x = Ints.of(mine, 123456);
                Ref.decref(mine, x);
                rt.startTheWorld();
            }
            Thread.sleep(50);
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(progress.get(0) > 0 && progress.get(1) > 0);
            a.release();
            b.release();
        }
    }

    @Test
    void aPauseTheCallerAlreadyHoldsIsNotTakenTwice() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            // taken twice and started once, the pause's locks stayed held: no other thread could join again
            interp.stopTheWorld();
            assertThrows(IllegalStateException.class, interp::stopTheWorld);
            assertThrows(IllegalStateException.class, rt::stopTheWorld);
            interp.startTheWorld();
            assertThrows(IllegalStateException.class, interp::startTheWorld, "one pause, one start");
            assertJoins(interp);

            rt.stopTheWorld();
            assertThrows(IllegalStateException.class, rt::stopTheWorld);
            assertThrows(IllegalStateException.class, interp::stopTheWorld);
            rt.startTheWorld();
            assertThrows(IllegalStateException.class, rt::startTheWorld);
            assertJoins(interp);
            interp.release();
        }
    }

    @Test
    void anInterpretersPartOfARuntimeWidePauseIsStartedByTheRuntimeOnly() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            rt.stopTheWorld();
            // it used to start, and then Runtime.startTheWorld threw IllegalMonitorStateException halfway, leaving
            // the main interpreter stopped for good
            assertThrows(IllegalStateException.class, interp::startTheWorld);
            rt.startTheWorld();
            assertJoins(rt.mainInterpreter());
            assertJoins(interp);
            interp.release();
        }
    }

    /** Another thread makes a thread state in {@code interp} and closes it: no pause is left behind. */
    static void assertJoins(Interpreter interp) throws InterruptedException {
        Thread joiner = Thread.ofPlatform().daemon().start(() -> {
            try (ThreadState ts = interp.newThreadState()) {
                Ref.decref(ts, Ints.of(ts, 1000));
            }
        });
        joiner.join(5_000);
        assertFalse(joiner.isAlive(), "another thread cannot join the interpreter: a pause was left held");
    }

    private static long[] snapshot(AtomicLongArray a) {
        long[] out = new long[a.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i);
        }
        return out;
    }
}
