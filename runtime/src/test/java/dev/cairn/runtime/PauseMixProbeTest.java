package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threads attached in different interpreters request every kind of pause on random interpreters (their own and
 * others', per interpreter and runtime-wide), collect and dump, while working: none may deadlock.
 */
class PauseMixProbeTest {

    @TempDir
    Path dir;

    @Test
    void mixedPauseRequestsFromThreadsAttachedAnywhereNeverDeadlock() throws Exception {
        long seed = System.nanoTime();
        System.out.println("PauseMixProbeTest seed=" + seed);
        // not closed on failure: a deadlocked pause keeps its locks, and close would wait for them forever
        Runtime rt = Runtime.create();
        Interpreter[] ins = {rt.mainInterpreter(), rt.newInterpreter(InterpreterConfig.isolated()),
            rt.newInterpreter(InterpreterConfig.sharedAllocator()), rt.newInterpreter(InterpreterConfig.isolated())};
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            int me = w;
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                SplittableRandom rnd = new SplittableRandom(seed + me);
                Interpreter home = ins[me % ins.length];
                try (ThreadState ts = home.newThreadState()) {
                    long list = Lists.create(ts);
                    for (int i = 0; i < 150; i++) {
                        long s = Strs.of(ts, "w" + me);
                        Lists.append(ts, list, s);
                        Ref.decref(ts, s);
                        Interpreter other = ins[rnd.nextInt(ins.length)];
                        switch (rnd.nextInt(6)) {
                            case 0 -> {
                                other.stopTheWorld();
                                other.startTheWorld();
                            }
                            case 1 -> Gc.collect(ts);
                            case 2 -> other.dumpHeap(dir.resolve("w" + me + ".cdump"));
                            case 3 -> {
                                if (rnd.nextInt(4) == 0) {
                                    rt.stopTheWorld();
                                    rt.startTheWorld();
                                }
                            }
                            default -> ts.checkpoint();
                        }
                        ts.checkpoint();
                    }
                    assertEquals(150, Lists.size(ts, list));
                    Ref.decref(ts, list);
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join(60_000); // a liveness bound only
            if (t.isAlive()) {
                Thread.getAllStackTraces().forEach((th, st) -> {
                    if (th.getName().startsWith("Thread-")) {
                        System.out.println("--- " + th);
                        for (StackTraceElement e : st) {
                            if (e.getClassName().startsWith("dev.cairn")) {
                                System.out.println("    " + e);
                            }
                        }
                    }
                });
            }
            assertFalse(t.isAlive(), t + " still running after a minute (deadlock), seed " + seed);
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " failed, seed " + seed);
            errors.forEach(e::addSuppressed);
            throw e;
        }
        for (int i = 1; i < ins.length; i++) {
            assertEquals(0, ins[i].release().orElseThrow().leakedObjects());
        }
        rt.close();
    }

    @Test
    void twoAttachedThreadsStoppingTheRuntimeAtOnceDoNotDeadlock() throws Exception {
        // not closed on failure: a deadlocked pause keeps its locks, and close would wait for them forever
        Runtime rt = Runtime.create();
        Interpreter a = rt.newInterpreter(InterpreterConfig.isolated());
        Interpreter b = rt.newInterpreter(InterpreterConfig.sharedAllocator());
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (Interpreter home : new Interpreter[] {a, b, a}) {
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                try (ThreadState ts = home.newThreadState()) {
                    for (int i = 0; i < 300; i++) {
                        // the holder waits for our thread state to stop while we wait for the holder's lock
                        rt.stopTheWorld();
                        Ref.decref(ts, Strs.of(ts, "inside"));
                        rt.startTheWorld();
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join(30_000); // a liveness bound only
            assertFalse(t.isAlive(), t + " still running after 30 s (deadlock)");
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " failed");
            errors.forEach(e::addSuppressed);
            throw e;
        }
        a.release();
        b.release();
        rt.close();
    }

    @Test
    void pausesWithContendedLocksJoiningAndDyingThreads() throws Exception {
        long seed = System.nanoTime();
        System.out.println("PauseMixProbeTest.locks seed=" + seed);
        // not closed on failure: a deadlocked pause keeps its locks, and close would wait for them forever
        Runtime rt = Runtime.create();
        Interpreter[] ins = {rt.newInterpreter(InterpreterConfig.isolated()),
            rt.newInterpreter(InterpreterConfig.sharedAllocator())};
        long[] shared = new long[ins.length];
        for (int i = 0; i < ins.length; i++) {
            int k = i;
            Thread t = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = ins[k].newThreadState()) {
                    shared[k] = Lists.create(ts);
                }
            });
            t.join();
        }
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            int me = w;
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                SplittableRandom rnd = new SplittableRandom(seed + me);
                int h = me % ins.length;
                try (ThreadState ts = ins[h].newThreadState()) {
                    for (int i = 0; i < 400; i++) {
                        long s = Strs.of(ts, "w" + me);
                        Lists.append(ts, shared[h], s); // contended: parks detached
                        Ref.decref(ts, s);
                        if (Lists.size(ts, shared[h]) > 50) {
                            try {
                                Ref.decref(ts, Lists.pop(ts, shared[h]));
                            } catch (IndexOutOfBoundsException empty) {
                                // popped by another
                            }
                        }
                        Interpreter other = ins[rnd.nextInt(ins.length)];
                        switch (rnd.nextInt(8)) {
                            case 0 -> {
                                other.stopTheWorld();
                                other.startTheWorld();
                            }
                            case 1 -> Gc.collect(ts);
                            case 2 -> {
                                rt.stopTheWorld();
                                rt.startTheWorld();
                            }
                            case 3 -> other.reapDeadThreads();
                            case 4 -> {
                                // a short-lived thread that leaves its state open
                                Thread d = Thread.ofPlatform().start(() -> {
                                    ThreadState dead = other.newThreadState();
                                    Ref.decref(dead, Strs.of(dead, "dies"));
                                });
                                ts.detach();
                                d.join();
                                ts.attach();
                            }
                            default -> ts.checkpoint();
                        }
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join(60_000); // a liveness bound only
            assertFalse(t.isAlive(), t + " still running after a minute (deadlock), seed " + seed);
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " failed, seed " + seed);
            errors.forEach(e::addSuppressed);
            throw e;
        }
        for (int i = 0; i < ins.length; i++) {
            int k = i;
            Thread t = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = ins[k].newThreadState()) {
                    Ref.decref(ts, shared[k]);
                }
            });
            t.join();
            assertEquals(0, ins[i].release().orElseThrow().leakedObjects());
        }
        rt.close();
    }
}
