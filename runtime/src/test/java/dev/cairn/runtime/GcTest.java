package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The cycle collector: garbage cycles made across threads die; nothing reachable does. */
class GcTest {

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
    void cyclesOfListsAndDictsMadeOnTwoThreadsAreCollected() throws Exception {
        int n = 500;
        long[] lists = new long[n];
        long[] dicts = new long[n];
        CountDownLatch made = new CountDownLatch(2);
        CountDownLatch linked = new CountDownLatch(2);
        CountDownLatch dropped = new CountDownLatch(2);
        CountDownLatch collected = new CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> errors = new ArrayList<>();
        Thread a = Thread.ofPlatform().start(() -> run(errors, ts -> {
            for (int i = 0; i < n; i++) {
                lists[i] = Lists.create(ts);
            }
            await(made);
            for (int i = 0; i < n; i++) {
                Lists.append(ts, lists[i], dicts[i]);
            }
            await(linked);
            for (int i = 0; i < n; i++) {
                Ref.decref(ts, lists[i]); // the dict's reference keeps it
            }
            dropped.countDown();
            while (!stop.get()) {
                ts.checkpoint(); // keeps running (and stopping) while the main thread collects
            }
        }));
        Thread b = Thread.ofPlatform().start(() -> run(errors, ts -> {
            for (int i = 0; i < n; i++) {
                dicts[i] = Dicts.create(ts);
            }
            await(made);
            for (int i = 0; i < n; i++) {
                long key = Ints.of(ts, 10_000 + i);
                Dicts.put(ts, dicts[i], key, lists[i]);
                Ref.decref(ts, key);
            }
            await(linked);
            for (int i = 0; i < n; i++) {
                Ref.decref(ts, dicts[i]);
            }
            dropped.countDown();
            ts.detach(); // a detached thread counts as stopped
            collected.await(30, java.util.concurrent.TimeUnit.SECONDS);
            ts.attach();
        }));
        assertTrue(dropped.await(30, java.util.concurrent.TimeUnit.SECONDS), () -> "errors: " + errors);
        long freed;
        try (ThreadState ts = interp.newThreadState()) {
            freed = Gc.collect(ts);
            collected.countDown();
            stop.set(true);
        }
        a.join();
        b.join();
        assertTrue(errors.isEmpty(), () -> "errors: " + errors);
        assertEquals(3L * n, freed, "each list, dict and int key");
        assertEquals(interp.objectsAllocated(), interp.objectsFreed());
    }

    @Test
    void randomGraphsLoseExactlyTheirUnreachableObjects() {
        long seed = System.nanoTime();
        System.out.println("GcTest.randomGraphsLoseExactlyTheirUnreachableObjects seed=" + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 3000;
        try (ThreadState ts = interp.newThreadState()) {
            long[] objs = new long[n];
            List<List<Integer>> edges = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                objs[i] = rnd.nextBoolean() ? Lists.create(ts) : Dicts.create(ts);
                edges.add(new ArrayList<>());
            }
            for (int e = 0; e < 2 * n; e++) {
                int from = rnd.nextInt(n);
                int to = rnd.nextInt(n);
                edges.get(from).add(to);
                if (Types.typeName(ts, objs[from]).equals("list")) {
                    Lists.append(ts, objs[from], objs[to]);
                } else {
                    long key = Ints.of(ts, e + 1000);
                    Dicts.put(ts, objs[from], key, objs[to]);
                    Ref.decref(ts, key);
                }
            }
            BitSet roots = new BitSet();
            for (int i = 0; i < n; i++) {
                if (rnd.nextInt(20) == 0) {
                    roots.set(i); // Java keeps this reference
                } else {
                    Ref.decref(ts, objs[i]);
                }
            }
            BitSet reachable = reach(roots, edges);
            long allocated = interp.objectsAllocated() - interp.objectsFreed();
            long freed = Gc.collect(ts);
            long keysOfDead = allocated - n - countKeys(ts, objs, reachable) ;
            assertEquals(n - reachable.cardinality() + keysOfDead, freed, "seed " + seed);
            for (int i = reachable.nextSetBit(0); i >= 0; i = reachable.nextSetBit(i + 1)) {
                assertTrue(Ref.isObject(ts, objs[i]), "reachable object " + i + " survives");
                long expectedSize = edges.get(i).size();
                if (Types.typeName(ts, objs[i]).equals("list")) {
                    assertEquals(expectedSize, Lists.size(ts, objs[i]));
                } else {
                    assertEquals(expectedSize, Dicts.size(ts, objs[i]));
                }
            }
            assertEquals(0, Gc.collect(ts), "a second collection finds nothing");
            for (int i = roots.nextSetBit(0); i >= 0; i = roots.nextSetBit(i + 1)) {
                Ref.decref(ts, objs[i]);
            }
            Gc.collect(ts);
            assertEquals(interp.objectsAllocated(), interp.objectsFreed());
        }
    }

    private static long countKeys(ThreadState ts, long[] objs, BitSet reachable) {
        long keys = 0;
        for (int i = reachable.nextSetBit(0); i >= 0; i = reachable.nextSetBit(i + 1)) {
            if (Types.typeName(ts, objs[i]).equals("dict")) {
                keys += Dicts.size(ts, objs[i]);
            }
        }
        return keys;
    }

    private static BitSet reach(BitSet roots, List<List<Integer>> edges) {
        BitSet seen = (BitSet) roots.clone();
        ArrayDeque<Integer> work = new ArrayDeque<>();
        roots.stream().forEach(work::add);
        while (!work.isEmpty()) {
            for (int to : edges.get(work.pop())) {
                if (!seen.get(to)) {
                    seen.set(to);
                    work.add(to);
                }
            }
        }
        return seen;
    }

    /** Counts down and waits (30 s at most, then fails) so that a failing thread cannot hang the test. */
    @Test
    void collectingInsideTheCallersPauseKeepsIt() throws Exception {
        try (ThreadState ts = interp.newThreadState()) {
            long list = Lists.create(ts);
            Lists.append(ts, list, list);
            Ref.decref(ts, list);
            interp.stopTheWorld();
            // it started the world at its end, under the caller's pause, whose locks then stayed held
            assertEquals(1, Gc.collect(ts));
            assertTrue(interp.stw.stoppedBy(Thread.currentThread()), "the caller's pause goes on");
            interp.startTheWorld();
        }
        StopTheWorldTest.assertJoins(interp);
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        latch.countDown();
        if (!latch.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new AssertionError("the other thread did not arrive");
        }
    }

    interface Body {
        void run(ThreadState ts) throws Exception;
    }

    private void run(List<Throwable> errors, Body body) {
        try (ThreadState ts = interp.newThreadState()) {
            body.run(ts);
        } catch (Throwable e) {
            synchronized (errors) {
                errors.add(e);
            }
        }
    }
}
