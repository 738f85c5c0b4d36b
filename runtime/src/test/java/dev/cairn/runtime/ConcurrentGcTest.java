package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Collections while two mutators make garbage cycles, share objects across threads and replace list items (delayed
 * decrefs): the reachable data stays intact, and at the end everything has been freed exactly once.
 */
class ConcurrentGcTest {

    @Test
    void collectionsRaceWithMutators() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ConcurrentGcTest seed=" + seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            long shared;
            try (ThreadState ts = interp.newThreadState()) {
                shared = Lists.create(ts); // both mutators append to it and replace its items
                for (int i = 0; i < 32; i++) {
                    long v = Ints.of(ts, 1000 + i);
                    Lists.append(ts, shared, v);
                    Ref.decref(ts, v);
                }
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong collected = new AtomicLong();
            List<Throwable> errors = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                long threadSeed = seed + t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try (ThreadState ts = interp.newThreadState()) {
                        SplittableRandom rnd = new SplittableRandom(threadSeed);
                        while (!stop.get()) {
                            mutate(ts, rnd, shared);
                            ts.checkpoint();
                        }
                    } catch (Throwable e) {
                        synchronized (errors) {
                            errors.add(e);
                        }
                        stop.set(true);
                    }
                }));
            }
            Thread collector = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    for (int k = 0; k < 25 && !stop.get(); k++) {
                        collected.addAndGet(Gc.collect(ts));
                        Thread.sleep(20);
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
                stop.set(true);
            });
            collector.join();
            for (Thread t : threads) {
                t.join();
            }
            if (!errors.isEmpty()) {
                AssertionError e = new AssertionError("seed " + seed);
                errors.forEach(e::addSuppressed);
                throw e;
            }
            assertTrue(collected.get() > 0, "the collections found garbage");
            try (ThreadState ts = interp.newThreadState()) {
                assertTrue(Lists.size(ts, shared) >= 32);
                Ref.decref(ts, shared);
                Gc.collect(ts);
            }
            assertEquals(interp.objectsAllocated(), interp.objectsFreed(), "seed " + seed);
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    private static void mutate(ThreadState ts, SplittableRandom rnd, long shared) {
        // a garbage cycle: list <-> dict, with an int inside
        long list = Lists.create(ts);
        long dict = Dicts.create(ts);
        long key = Ints.of(ts, rnd.nextLong(1000, 1 << 20));
        Dicts.put(ts, dict, key, list);
        Lists.append(ts, list, dict);
        Lists.append(ts, list, key);
        // share something with the other thread, and replace one of its items
        long v = Ints.of(ts, 1000 + rnd.nextInt(1 << 20));
        if (rnd.nextInt(8) == 0 && Lists.size(ts, shared) < 500) {
            Lists.append(ts, shared, v);
        } else {
            Lists.set(ts, shared, rnd.nextLong(32), v);
        }
        long other = Lists.get(ts, shared, rnd.nextLong(Lists.size(ts, shared)));
        if (Ints.value(ts, other) < 1000) {
            throw new AssertionError("bad item " + Ints.value(ts, other));
        }
        if (rnd.nextBoolean()) {
            Lists.append(ts, list, other); // the garbage cycle holds a shared object: freeing it drops that
        }
        for (long o : new long[] {list, dict, key, v, other}) {
            Ref.decref(ts, o);
        }
    }
}
