package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.AllocatorConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Probes with several threads: counts, lock-free readers under growth, pauses and collections. */
class ConcurrencyProbeTest {

    private static final AllocatorConfig POISONED =
            AllocatorConfig.builder().freeFill(0xAB).purgeDelay(Duration.ZERO).build();

    interface Body {
        void run(ThreadState ts) throws Exception;
    }

    private static Thread start(Interpreter in, ConcurrentLinkedQueue<Throwable> errors, Body body) {
        return Thread.ofPlatform().daemon().start(() -> {
            try (ThreadState ts = in.newThreadState()) {
                body.run(ts);
            } catch (Throwable t) {
                errors.add(t);
            }
        });
    }

    private static void joinAll(List<Thread> threads, ConcurrentLinkedQueue<Throwable> errors)
            throws InterruptedException {
        for (Thread t : threads) {
            t.join(120_000); // a liveness bound only
            assertFalse(t.isAlive(), t + " still running after two minutes (deadlock)");
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " thread(s) failed");
            errors.forEach(e::addSuppressed);
            throw e;
        }
    }

    @Test
    void increfsAndDecrefsFromManyThreadsStayExact() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            try (ThreadState main = in.newThreadState()) {
                long[] objs = new long[64];
                for (int i = 0; i < objs.length; i++) {
                    objs[i] = i % 2 == 0 ? Strs.of(main, "o" + i) : Lists.create(main);
                }
                main.detach();
                List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < 4; w++) {
                    threads.add(start(in, errors, ts -> {
                        for (int r = 0; r < 200; r++) {
                            for (long o : objs) {
                                Ref.incref(ts, o);
                            }
                            for (long o : objs) {
                                Ref.decref(ts, o);
                            }
                            ts.checkpoint();
                        }
                        // keep one each, dropped by the main thread below
                        for (long o : objs) {
                            Ref.incref(ts, o);
                        }
                    }));
                }
                joinAll(threads, errors);
                main.attach();
                for (long o : objs) {
                    assertEquals(5, Ref.refcount(main, o));
                }
                long before = in.objectsFreed();
                for (int k = 0; k < 5; k++) {
                    for (long o : objs) {
                        Ref.decref(main, o);
                    }
                }
                assertEquals(objs.length, in.objectsFreed() - before, "each object dies once, at its last decref");
            }
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void dictReadersDuringGrowthDeletesAndReinsertsSeeOnlyTheirValues() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ConcurrencyProbeTest.dict seed=" + seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(new InterpreterConfig(true, POISONED));
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            int nkeys = 3000;
            long dict;
            long list;
            long[] keys = new long[nkeys];
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong checked = new AtomicLong();
            try (ThreadState main = in.newThreadState()) {
                dict = Dicts.create(main);
                list = Lists.create(main);
                for (int i = 0; i < nkeys; i++) {
                    keys[i] = i % 2 == 0 ? Strs.of(main, "key " + i) : Ints.of(main, 1_000_000L + i);
                }
                main.detach();
                List<Thread> threads = new ArrayList<>();
                threads.add(start(in, errors, ts -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    for (int round = 0; round < 30 && errors.isEmpty(); round++) {
                        // fill (many resizes), then delete most, then re-insert: tombstones and shrinking tables
                        for (int i = 0; i < nkeys; i++) {
                            long v = Strs.of(ts, "v" + i + "/" + round);
                            Dicts.put(ts, dict, keys[i], v);
                            Ref.decref(ts, v);
                            if (i % 64 == 0) {
                                ts.checkpoint();
                            }
                        }
                        for (int i = 0; i < nkeys; i++) {
                            if (rnd.nextInt(10) < 9) {
                                Dicts.remove(ts, dict, keys[i]);
                            }
                            long v = Strs.of(ts, "item " + (round * nkeys + i) % 97);
                            if (Lists.size(ts, list) < 500) {
                                Lists.append(ts, list, v);
                            } else {
                                Lists.set(ts, list, rnd.nextLong(Lists.size(ts, list)), v);
                                if (rnd.nextBoolean()) {
                                    Ref.decref(ts, Lists.pop(ts, list));
                                }
                            }
                            Ref.decref(ts, v);
                            if (i % 64 == 0) {
                                ts.checkpoint();
                            }
                        }
                    }
                    stop.set(true);
                }));
                for (int r = 0; r < 2; r++) {
                    threads.add(start(in, errors, ts -> {
                        SplittableRandom rnd = new SplittableRandom(seed + 1);
                        int n = 0;
                        while (!stop.get() && errors.isEmpty()) {
                            int i = rnd.nextInt(nkeys);
                            long v = Dicts.get(ts, dict, keys[i]);
                            if (v != 0) {
                                String s = Strs.value(ts, v);
                                if (!s.startsWith("v" + i + "/")) {
                                    throw new AssertionError("key " + i + " -> " + s);
                                }
                                Ref.decref(ts, v);
                                checked.incrementAndGet();
                            }
                            long size = Lists.size(ts, list);
                            if (size > 0) {
                                try {
                                    long item = Lists.get(ts, list, rnd.nextLong(size));
                                    if (!Strs.value(ts, item).startsWith("item ")) {
                                        throw new AssertionError("list item " + Strs.value(ts, item));
                                    }
                                    Ref.decref(ts, item);
                                } catch (IndexOutOfBoundsException popped) {
                                    // popped meanwhile
                                }
                            }
                            if (++n % 32 == 0) {
                                ts.checkpoint();
                            }
                        }
                    }));
                }
                joinAll(threads, errors);
                main.attach();
                assertTrue(checked.get() > 0);
                Ref.decref(main, dict);
                Ref.decref(main, list);
                for (long k : keys) {
                    Ref.decref(main, k);
                }
            }
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void heapTypesWithInstancesFromManyShortLivedThreads() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Long> made = new ConcurrentLinkedQueue<>();
            try (ThreadState main = in.newThreadState()) {
                long[] types = new long[20];
                for (int i = 0; i < types.length; i++) {
                    types[i] = Types.newHeapType(main, "T" + i, 2);
                }
                main.detach();
                for (int wave = 0; wave < 10; wave++) {
                    List<Thread> threads = new ArrayList<>();
                    for (int w = 0; w < 6; w++) {
                        int me = w + wave;
                        boolean leaveOpen = w % 3 == 0;
                        Thread t = Thread.ofPlatform().daemon().start(() -> {
                            try {
                                ThreadState ts = in.newThreadState();
                                for (int k = 0; k < 50; k++) {
                                    long type = types[(me + k) % types.length];
                                    long obj = Instances.create(ts, type);
                                    long other = Types.newHeapType(ts, "local" + k, 1); // dies young
                                    long inst = Instances.create(ts, other);
                                    Instances.set(ts, obj, 0, inst);
                                    Ref.decref(ts, inst);
                                    Ref.decref(ts, other);
                                    made.add(obj);
                                }
                                if (!leaveOpen) {
                                    ts.close(); // else the thread ends with it open: reaped later
                                }
                            } catch (Throwable e) {
                                errors.add(e);
                            }
                        });
                        threads.add(t);
                    }
                    joinAll(threads, errors);
                }
                main.attach();
                assertEquals(60 * 50, made.size());
                for (long obj : made) {
                    Ref.decref(main, obj);
                }
                Gc.collect(main);
                for (long t : types) {
                    assertTrue(Ref.isObject(main, t));
                    Ref.decref(main, t);
                }
                Gc.collect(main);
                for (long t : types) {
                    assertFalse(Ref.isObject(main, t), "type freed once nothing refers to it");
                }
            }
            DestroyReport report = in.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), () -> "leaked " + report.leakedByType());
        }
    }

    @Test
    void collectionsFromSeveralThreadsWhileOthersMutateAndAttach() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ConcurrencyProbeTest.gc seed=" + seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                int me = w;
                threads.add(start(in, errors, ts -> {
                    SplittableRandom rnd = new SplittableRandom(seed + me);
                    long keep = Lists.create(ts);
                    for (int i = 0; i < 300; i++) {
                        // a garbage cycle of a list, a dict and a tuple, with non-container members
                        long l = Lists.create(ts);
                        long d = Dicts.create(ts);
                        long s = Strs.of(ts, "m" + i);
                        long k = Ints.of(ts, 5000 + i);
                        Dicts.put(ts, d, k, l);
                        long t = Tuples.of(ts, d, s);
                        Lists.append(ts, l, t);
                        long kt = Tuples.of(ts, s);
                        Lists.append(ts, keep, kt); // kept: reachable
                        Ref.decref(ts, kt);
                        Ref.decref(ts, l);
                        Ref.decref(ts, d);
                        Ref.decref(ts, s);
                        Ref.decref(ts, k);
                        Ref.decref(ts, t);
                        if (rnd.nextInt(20) == 0) {
                            Gc.collect(ts);
                        }
                        if (rnd.nextInt(10) == 0) {
                            ts.detach();
                            Thread.onSpinWait();
                            ts.attach();
                        }
                        ts.checkpoint();
                    }
                    Gc.collect(ts);
                    assertEquals(300, Lists.size(ts, keep));
                    for (int i = 0; i < 300; i++) {
                        long t = Lists.get(ts, keep, i);
                        long s = Tuples.get(ts, t, 0);
                        assertEquals("m" + i, Strs.value(ts, s));
                        Ref.decref(ts, s);
                        Ref.decref(ts, t);
                    }
                    Ref.decref(ts, keep);
                }));
            }
            // threads that join and leave while pauses come and go
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (!stop.get()) {
                        try (ThreadState ts = in.newThreadState()) {
                            Ref.decref(ts, Strs.of(ts, "visitor"));
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
            for (int i = 0; i < 3; i++) {
                threads.get(i).join();
            }
            stop.set(true);
            joinAll(threads, errors);
            try (ThreadState ts = in.newThreadState()) {
                Gc.collect(ts);
            }
            DestroyReport report = in.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), () -> "leaked " + report.leakedByType());
        }
    }

    @Test
    void aCollectionReturnsExactlyWhatItFreed() {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState ts = in.newThreadState()) {
                long l = Lists.create(ts);
                long d = Dicts.create(ts);
                for (int i = 0; i < 10; i++) {
                    long s = Strs.of(ts, "s" + i);
                    Lists.append(ts, l, s);
                    Ref.decref(ts, s);
                }
                long key = Strs.of(ts, "k");
                Dicts.put(ts, d, key, l);
                Ref.decref(ts, key);
                Lists.append(ts, l, d);
                long big = Ints.of(ts, 1000);
                long t = Tuples.of(ts, l, big, rt.none());
                Ref.decref(ts, big);
                Lists.append(ts, l, t);
                long kept = Lists.create(ts);
                Lists.append(ts, kept, kept);
                Ref.decref(ts, l);
                Ref.decref(ts, d);
                Ref.decref(ts, t);
                // l, d, t, 10 strs, the key, the int 1000
                assertEquals(15, Gc.collect(ts));
                assertEquals(0, Gc.collect(ts));
                assertEquals(1, Lists.size(ts, kept));
                Ref.decref(ts, kept);
                assertEquals(1, Gc.collect(ts));
            }
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void pausesManyRoundsWithThreadsBlockedDetachedAndAttachingMeanwhile() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean paused = new AtomicBoolean();
            AtomicLong violations = new AtomicLong();
            CountDownLatch blockedDetached = new CountDownLatch(1);
            CountDownLatch unblock = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            threads.add(start(in, errors, ts -> {
                ts.detach();
                blockedDetached.countDown();
                unblock.await(); // blocked the whole time, detached
                ts.attach();
            }));
            for (int w = 0; w < 2; w++) {
                threads.add(start(in, errors, ts -> {
                    while (!stop.get()) {
                        if (paused.get()) {
                            violations.incrementAndGet(); // running attached while the world is stopped
                        }
                        ts.checkpoint();
                        ts.detach();
                        ts.attach();
                    }
                }));
            }
            blockedDetached.await();
            try (ThreadState mine = in.newThreadState()) {
                for (int round = 0; round < 200; round++) {
                    in.stopTheWorld();
                    paused.set(true);
                    Ref.decref(mine, Strs.of(mine, "while stopped"));
                    paused.set(false);
                    in.startTheWorld();
                    if (round % 50 == 0) {
                        rt.stopTheWorld();
                        paused.set(true);
                        Gc.collect(mine);
                        paused.set(false);
                        rt.startTheWorld();
                    }
                }
            }
            stop.set(true);
            unblock.countDown();
            joinAll(threads, errors);
            assertEquals(0, violations.get());
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }
}
