package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Biased reference counting under many threads: counts stay exact, every object dies exactly once (the checked
 * allocator refuses a second free; the freed count must match), owners that exit leave their objects to the
 * threads that find them.
 */
class BiasedRcTest {

    private static final int THREADS = 6;

    private Runtime rt;
    private Interpreter interp;

    @BeforeEach
    void setUp() {
        rt = Runtime.create();
        interp = rt.newInterpreter(InterpreterConfig.isolated());
    }

    @AfterEach
    void tearDown() {
        DestroyReport report = interp.release().orElseThrow();
        assertEquals(0, report.leakedObjects(), "leaked: " + report.leakedByType());
        rt.close();
    }

    @Test
    void countsStayExactAndEveryObjectDiesOnce() throws Exception {
        long seed = System.nanoTime();
        System.out.println("BiasedRcTest.countsStayExactAndEveryObjectDiesOnce seed=" + seed);
        int n = 2000;
        long[] objs = new long[n];
        ThreadState owner = interp.newThreadState();
        for (int i = 0; i < n; i++) {
            objs[i] = (i & 1) == 0 ? Ints.of(owner, 1_000_000 + i) : Lists.create(owner);
        }
        // every other thread increfs and decrefs at random, holding up to a few references at a time
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Throwable> errors = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long threadSeed = seed + t;
            threads.add(Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    SplittableRandom rnd = new SplittableRandom(threadSeed);
                    int[] held = new int[n];
                    start.await();
                    for (int k = 0; k < 200_000; k++) {
                        int i = rnd.nextInt(n);
                        if (held[i] > 0 && rnd.nextBoolean()) {
                            Ref.decref(ts, objs[i]);
                            held[i]--;
                        } else {
                            Ref.incref(ts, objs[i]);
                            held[i]++;
                        }
                        if ((k & 1023) == 0) {
                            ts.checkpoint();
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        for (; held[i] > 0; held[i]--) {
                            Ref.decref(ts, objs[i]);
                        }
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            }));
        }
        // the owner works on its own objects at the same time, with plain local counts
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int k = 0; k < 200_000; k++) {
            int i = rnd.nextInt(n);
            Ref.incref(owner, objs[i]);
            Ref.decref(owner, objs[i]);
            if ((k & 1023) == 0) {
                owner.checkpoint();
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(errors.isEmpty(), () -> "errors: " + errors);
        owner.checkpoint();
        for (int i = 0; i < n; i++) {
            assertEquals(1, Ref.refcount(owner, objs[i]), "object " + i);
        }
        // hand every last reference to other threads: their decrefs find shared == 0 and queue to the owner
        long freedBefore = interp.objectsFreed();
        Thread[] droppers = new Thread[2];
        for (int d = 0; d < droppers.length; d++) {
            int first = d;
            droppers[d] = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    for (int i = first; i < n; i += 2) {
                        Ref.decref(ts, objs[i]);
                    }
                }
            });
        }
        for (Thread t : droppers) {
            t.join();
        }
        assertEquals(freedBefore, interp.objectsFreed(), "queued to the owner, not freed by others");
        owner.checkpoint(); // the owner merges its queue here
        assertEquals(freedBefore + n, interp.objectsFreed());
        owner.close();
        assertEquals(interp.objectsAllocated(), interp.objectsFreed());
    }

    @Test
    void objectsOfExitedOwnersAreMergedByWhoeverFindsThem() throws Exception {
        int n = 1000;
        long[] objs = new long[n];
        Thread ownerThread = Thread.ofPlatform().start(() -> {
            try (ThreadState owner = interp.newThreadState()) {
                for (int i = 0; i < n; i++) {
                    objs[i] = Strs.of(owner, "object " + i);
                    Ref.incref(owner, objs[i]); // local count 2: one for each of the two threads below
                }
            }
        });
        ownerThread.join();
        long freedBefore = interp.objectsFreed();
        CyclicBarrier start = new CyclicBarrier(2);
        Thread[] users = new Thread[2];
        List<Throwable> errors = new ArrayList<>();
        for (int u = 0; u < 2; u++) {
            users[u] = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    start.await();
                    for (int i = 0; i < n; i++) {
                        Ref.incref(ts, objs[i]);
                        Ref.decref(ts, objs[i]);
                        Ref.decref(ts, objs[i]); // gives up one of the two references the owner left
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
        }
        for (Thread t : users) {
            t.join();
        }
        assertTrue(errors.isEmpty(), () -> "errors: " + errors);
        assertEquals(freedBefore + n, interp.objectsFreed(), "every object freed exactly once");
    }

    @Test
    void aDetachedOwnersQueueIsMergedByTheQueuerAndAClosingOwnerDrainsItsOwn() throws Exception {
        int n = 500;
        long[] objs = new long[2 * n];
        ThreadState owner = interp.newThreadState();
        for (int i = 0; i < objs.length; i++) {
            objs[i] = Floats.of(owner, i);
        }
        owner.detach(); // in a blocking call: the queuer holds it in MERGING and merges for it
        long freedBefore = interp.objectsFreed();
        dropOnAnotherThread(objs, 0, n);
        assertEquals(freedBefore + n, interp.objectsFreed(), "merged on the detached owner's behalf");
        owner.attach();
        dropOnAnotherThread(objs, n, 2 * n); // attached now: queued, merged at its next safe point
        assertEquals(freedBefore + n, interp.objectsFreed(), "queued to the attached owner");
        owner.close(); // drains what was queued before it leaves the queue table
        assertEquals(freedBefore + 2 * n, interp.objectsFreed());
    }

    private void dropOnAnotherThread(long[] objs, int from, int to) throws InterruptedException {
        Thread t = Thread.ofPlatform().start(() -> {
            try (ThreadState ts = interp.newThreadState()) {
                for (int i = from; i < to; i++) {
                    Ref.decref(ts, objs[i]);
                }
            }
        });
        t.join();
    }
}
