package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Thread states whose thread ends without closing them are reaped on their behalf ({@link ThreadReaper}): the
 * table and the indexes stay as small as the threads alive at once, their objects stay valid with exact counts and
 * are merged by whoever finds them, and they hold up neither a pause nor a destruction.
 */
class ThreadReaperTest {

    private static final int WORKERS = 1000;
    private static final int AT_ONCE = 4;

    /** What one short-lived worker hands to the survivor; each entry carries one reference. */
    private record Handed(long obj, int worker, boolean instance) {
    }

    @Test
    void shortLivedThreadsThatNeverCloseAreReapedAndTheirObjectsStayExact() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ThreadReaperTest.shortLivedThreads seed=" + seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            ThreadState survivor = interp.newThreadState();
            long type = Types.newHeapType(survivor, "Point", 1);
            long kept = Lists.create(survivor); // each worker appends an int it owns
            ConcurrentLinkedQueue<Handed> handed = new ConcurrentLinkedQueue<>();
            ThreadState[] states = new ThreadState[WORKERS];
            AtomicInteger maxTable = new AtomicInteger();
            AtomicInteger maxIndex = new AtomicInteger();
            AtomicInteger droppedByOthers = new AtomicInteger();
            List<Throwable> errors = new ArrayList<>();
            survivor.detach(); // it waits in join(): a worker's pause must not wait for it
            for (int first = 0; first < WORKERS; first += AT_ONCE) {
                // all of a batch are created before any ends, so the last batch leaves exactly AT_ONCE dead states
                CyclicBarrier created = new CyclicBarrier(AT_ONCE);
                Thread[] batch = new Thread[AT_ONCE];
                for (int b = 0; b < AT_ONCE; b++) {
                    int w = first + b;
                    SplittableRandom rnd = new SplittableRandom(seed + w);
                    batch[b] = Thread.ofPlatform().start(() -> {
                        try {
                            ThreadState ts = interp.newThreadState(); // never closed
                            states[w] = ts;
                            maxTable.accumulateAndGet(interp.threadCount(), Math::max);
                            maxIndex.accumulateAndGet(ts.index(), Math::max);
                            created.await(30, TimeUnit.SECONDS);
                            work(ts, w, rnd, type, kept, handed, droppedByOthers);
                            if (rnd.nextBoolean()) {
                                ts.detach(); // ends detached; the others end attached
                            }
                        } catch (Throwable e) {
                            synchronized (errors) {
                                errors.add(e);
                            }
                        }
                    });
                }
                for (Thread t : batch) {
                    join(t, "seed " + seed);
                }
                if (first % 200 == 0) {
                    survivor.attach();
                    Gc.collect(survivor); // reaps the batch that just ended, inside the pause
                    survivor.detach();
                }
            }
            survivor.attach();
            assertTrue(errors.isEmpty(), () -> "seed " + seed + ": " + errors);
            assertEquals(AT_ONCE, interp.reapDeadThreads(), "the last batch, still in the table");
            assertEquals(0, interp.reapDeadThreads());
            assertEquals(1, interp.threadCount(), "only the survivor is left");
            for (ThreadState ts : states) {
                assertEquals(ThreadState.CLOSED, ts.state(), ts.toString());
                assertTrue(ts.mergeQueue.isEmpty(), ts.toString());
            }
            // table and indexes bounded by the threads alive at once (the batch, the last one's dead, the survivor)
            assertTrue(maxTable.get() <= 2 * AT_ONCE + 1, "table grew to " + maxTable.get());
            assertTrue(maxIndex.get() <= 2 * AT_ONCE, "index grew to " + maxIndex.get());

            checkHanded(survivor, handed, type, kept);
            // drop everything: each decref finds a reaped owner and merges the object itself
            for (Handed h : handed) {
                Ref.decref(survivor, h.obj());
            }
            Ref.decref(survivor, kept);
            Ref.decref(survivor, type);
            Gc.collect(survivor); // frees the type and the delayed decrefs the dead workers left
            survivor.close();
            assertEquals(interp.objectsAllocated(), interp.objectsFreed(), "seed " + seed);
            assertTrue(droppedByOthers.get() > 0, "some workers dropped objects of dead owners");
            DestroyReport report = interp.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), "leaked: " + report.leakedByType());
        }
    }

    /** One worker's life: objects handed over in three ways, a delayed decref left pending, others' objects used. */
    private static void work(ThreadState ts, int w, SplittableRandom rnd, long type, long kept,
            ConcurrentLinkedQueue<Handed> handed, AtomicInteger droppedByOthers) {
        // the worker's own reference moves to the survivor: the owner dies with local count 1
        handed.add(new Handed(Strs.of(ts, "worker " + w), w, false));
        // an instance: its type reference sits in this worker's heap-type counts until they are folded in
        long inst = Instances.create(ts, type);
        long f = Floats.of(ts, w + 0.5);
        Instances.set(ts, inst, 0, f);
        Ref.decref(ts, f);
        handed.add(new Handed(inst, w, true));
        // the survivor's list holds an int this worker owns
        long n = Ints.of(ts, 1_000_000 + w);
        Lists.append(ts, kept, n);
        Ref.decref(ts, n);
        // a replaced item's decref waits for a grace period this worker will not see
        long mine = Lists.create(ts);
        long a = Ints.of(ts, 2_000_000 + w);
        Lists.append(ts, mine, a);
        Ref.decref(ts, a);
        long b = Ints.of(ts, 3_000_000 + w);
        Lists.set(ts, mine, 0, b);
        Ref.decref(ts, b);
        Ref.decref(ts, mine);
        // take something an earlier (dead) worker handed over: touch it, or drop it (a non-owner's last decref)
        Handed other = handed.poll();
        if (other != null) {
            Ref.incref(ts, other.obj());
            Ref.decref(ts, other.obj());
            if (other.worker() != w && rnd.nextInt(4) == 0) {
                Ref.decref(ts, other.obj());
                droppedByOthers.incrementAndGet();
            } else {
                handed.add(other);
            }
        }
    }

    private static void checkHanded(ThreadState survivor, ConcurrentLinkedQueue<Handed> handed, long type,
            long kept) {
        int instances = 0;
        for (Handed h : handed) {
            assertEquals(1, Ref.refcount(survivor, h.obj()), "worker " + h.worker());
            if (h.instance()) {
                long f = Instances.get(survivor, h.obj(), 0);
                assertEquals(h.worker() + 0.5, Floats.value(survivor, f));
                Ref.decref(survivor, f);
                instances++;
            } else {
                assertEquals("worker " + h.worker(), Strs.value(survivor, h.obj()));
            }
        }
        assertEquals(WORKERS, Lists.size(survivor, kept));
        Set<Long> values = new HashSet<>();
        for (int i = 0; i < WORKERS; i++) {
            long item = Lists.get(survivor, kept, i);
            assertEquals(2, Ref.refcount(survivor, item), "the list's reference and ours");
            values.add(Ints.value(survivor, item));
            Ref.decref(survivor, item);
        }
        assertEquals(WORKERS, values.size());
        assertTrue(values.stream().allMatch(v -> v >= 1_000_000 && v < 1_000_000 + WORKERS));
        Gc.collect(survivor); // merges every count, so the type's merged count is exact
        assertEquals(1 + instances, Ref.refcount(survivor, type), "the survivor's and one per live instance");
    }

    @Test
    void anOwnerThatEndsWhileOthersUseItsObjectsRacesWithPausesAndCollections() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ThreadReaperTest.anOwnerThatEnds seed=" + seed);
        SplittableRandom rounds = new SplittableRandom(seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            ThreadState main = interp.newThreadState();
            for (int round = 0; round < 500; round++) {
                raceRound(interp, main, rounds.nextLong(), "seed " + seed + " round " + round);
            }
            main.close();
            assertEquals(interp.objectsAllocated(), interp.objectsFreed(), "seed " + seed);
            DestroyReport report = interp.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), "leaked: " + report.leakedByType());
        }
    }

    /**
     * An owner makes objects holding a reference for each of two users (and for {@code main}, for every fourth),
     * drops its own and ends without closing while the users incref, decref and finally drop theirs (queueing
     * them to it, alive, dead or reaped) and a collector stops the world, collects and reaps.
     */
    private static void raceRound(Interpreter interp, ThreadState main, long seed, String what) throws Exception {
        int n = 32;
        int users = 2;
        long[] objs = new long[n];
        long liveBefore = interp.objectsAllocated() - interp.objectsFreed();
        CountDownLatch made = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        List<Throwable> errors = new ArrayList<>();
        ThreadState[] ownerState = new ThreadState[1];
        List<Thread> threads = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        boolean endsDetached = rnd.nextBoolean();
        // the owner ends once the users have dropped this many references: anywhere in the middle of their work
        int endAfter = rnd.nextInt(n * users + 1);
        AtomicInteger dropped = new AtomicInteger();
        CountDownLatch usersEnded = new CountDownLatch(users);
        threads.add(start(errors, () -> {
            ThreadState ts = interp.newThreadState(); // never closed
            ownerState[0] = ts;
            SplittableRandom r = new SplittableRandom(seed + 1);
            for (int i = 0; i < n; i++) {
                objs[i] = switch (i % 3) {
                    case 0 -> Ints.of(ts, 5_000_000 + i);
                    case 1 -> Strs.of(ts, "object " + i);
                    default -> listOf(ts, 6_000_000 + i);
                };
                for (int k = 0; k < users + (i % 4 == 0 ? 1 : 0); k++) {
                    Ref.incref(ts, objs[i]);
                }
            }
            made.countDown();
            for (int i : order(r, n)) {
                for (int k = r.nextInt(4); k > 0; k--) {
                    Ref.incref(ts, objs[i]);
                    Ref.decref(ts, objs[i]);
                }
                Ref.decref(ts, objs[i]);
                if (r.nextInt(8) == 0) {
                    ts.checkpoint();
                }
            }
            while (dropped.get() < endAfter && usersEnded.getCount() > 0) {
                ts.checkpoint(); // merges what the users queue to it meanwhile, and stops for pauses
                Thread.onSpinWait();
            }
            if (endsDetached) {
                ts.detach();
            }
        }));
        for (int u = 0; u < users; u++) {
            long userSeed = seed + 2 + u;
            threads.add(start(errors, () -> {
                try (ThreadState ts = interp.newThreadState()) {
                    SplittableRandom r = new SplittableRandom(userSeed);
                    ts.detach();
                    made.await();
                    ts.attach();
                    for (int i : order(r, n)) {
                        for (int k = r.nextInt(4); k > 0; k--) {
                            Ref.incref(ts, objs[i]);
                            ts.checkpoint();
                            Ref.decref(ts, objs[i]);
                        }
                        Ref.decref(ts, objs[i]); // shared count 0: queued to the owner, wherever it is
                        dropped.incrementAndGet();
                    }
                } finally {
                    usersEnded.countDown(); // a user that failed must not leave the owner waiting
                }
            }));
        }
        Thread collector = start(errors, () -> {
            try (ThreadState ts = interp.newThreadState()) {
                SplittableRandom r = new SplittableRandom(seed + 9);
                while (!done.get()) {
                    switch (r.nextInt(3)) {
                        case 0 -> Gc.collect(ts);
                        case 1 -> {
                            interp.stopTheWorld();
                            interp.startTheWorld();
                        }
                        default -> interp.reapDeadThreads();
                    }
                    ts.checkpoint();
                    Thread.yield();
                }
            }
        });
        main.detach(); // joining: neither the owner's nor the collector's pause may wait for us
        for (Thread t : threads) {
            join(t, what);
        }
        done.set(true);
        join(collector, what);
        main.attach();
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(what);
            errors.forEach(e::addSuppressed);
            throw e;
        }
        interp.reapDeadThreads(); // whatever the collector did not reap
        assertEquals(ThreadState.CLOSED, ownerState[0].state(), what);
        assertEquals(1, interp.threadCount(), what);
        int keptObjects = 0;
        for (int i = 0; i < n; i += 4) {
            assertEquals(1, Ref.refcount(main, objs[i]), what + " object " + i);
            keptObjects += i % 3 == 2 ? 2 : 1;
            switch (i % 3) {
                case 0 -> assertEquals(5_000_000 + i, Ints.value(main, objs[i]), what);
                case 1 -> assertEquals("object " + i, Strs.value(main, objs[i]), what);
                default -> {
                    long item = Lists.get(main, objs[i], 0);
                    assertEquals(6_000_000 + i, Ints.value(main, item), what);
                    Ref.decref(main, item);
                }
            }
        }
        assertEquals(liveBefore + keptObjects, interp.objectsAllocated() - interp.objectsFreed(),
                what + ": every other object freed, none twice");
        for (int i = 0; i < n; i += 4) {
            Ref.decref(main, objs[i]); // the owner is reaped: this decref merges and frees
        }
        assertEquals(liveBefore, interp.objectsAllocated() - interp.objectsFreed(), what);
    }

    private static long listOf(ThreadState ts, long value) {
        long list = Lists.create(ts);
        long item = Ints.of(ts, value);
        Lists.append(ts, list, item);
        Ref.decref(ts, item);
        return list;
    }

    private static int[] order(SplittableRandom r, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = out[i];
            out[i] = out[j];
            out[j] = t;
        }
        return out;
    }

    private static void join(Thread t, String what) throws InterruptedException {
        t.join(TimeUnit.SECONDS.toMillis(60));
        if (t.isAlive()) {
            StringBuilder stack = new StringBuilder(what + ": " + t + " still runs after 60 s");
            for (var e : Thread.getAllStackTraces().entrySet()) {
                stack.append("\n").append(e.getKey());
                for (StackTraceElement f : e.getValue()) {
                    stack.append("\n    at ").append(f);
                }
            }
            throw new AssertionError(stack.toString());
        }
    }

    private interface Body {
        void run() throws Exception;
    }

    private static Thread start(List<Throwable> errors, Body body) {
        return Thread.ofPlatform().start(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                synchronized (errors) {
                    errors.add(e);
                }
            }
        });
    }

    @Test
    void deadThreadStatesHoldUpNeitherAPauseNorACollection() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState main = interp.newThreadState();
            long[] objs = new long[2];
            List<Throwable> errors = new ArrayList<>();
            CountDownLatch bothCreated = new CountDownLatch(2);
            Thread attached = start(errors, () -> {
                ThreadState ts = interp.newThreadState();
                objs[0] = Strs.of(ts, "left attached"); // the reference goes to main
                bothCreated.countDown();
                bothCreated.await();
            });
            Thread detached = start(errors, () -> {
                ThreadState ts = interp.newThreadState();
                objs[1] = Strs.of(ts, "left detached");
                bothCreated.countDown();
                bothCreated.await();
                ts.detach();
            });
            attached.join();
            detached.join();
            assertTrue(errors.isEmpty(), () -> "errors: " + errors);
            assertEquals(3, interp.threadCount(), "nobody has reaped them yet");
            main.detach(); // the pause below runs on another thread: it must not wait for us
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                interp.stopTheWorld();
                interp.startTheWorld();
            }, "a pause counts dead thread states as stopped");
            main.attach();
            assertEquals(3, interp.threadCount(), "a plain pause reaps nothing");
            long freed = interp.objectsFreed();
            Ref.decref(main, objs[0]);
            assertEquals(freed, interp.objectsFreed(), "queued to the dead attached owner: waits for its reaper");
            Ref.decref(main, objs[1]);
            assertEquals(freed + 1, interp.objectsFreed(), "merged for the dead detached owner by the queuer");
            Gc.collect(main);
            assertEquals(freed + 2, interp.objectsFreed(), "the collection reaped the attached one and merged");
            assertEquals(1, interp.threadCount());
            main.close();
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void deadThreadStatesHoldUpNoDestruction() throws Exception {
        Runtime rt = Runtime.create();
        Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
        long[] obj = new long[1];
        CountDownLatch userCreated = new CountDownLatch(1);
        List<Throwable> errors = new ArrayList<>();
        Thread owner = start(errors, () -> {
            ThreadState ts = interp.newThreadState();
            obj[0] = Strs.of(ts, "queued to a dead owner");
            userCreated.await(); // else the user's creation would reap us first
        });
        Thread user = start(errors, () -> {
            ThreadState ts = interp.newThreadState();
            userCreated.countDown();
            ts.detach();
            owner.join();
            ts.attach();
            Ref.decref(ts, obj[0]); // the owner is in the table, dead and attached: the object waits in its queue
        });
        // the main interpreter too: Runtime.close() destroys it
        Thread mainUser = start(errors, () -> Ints.of(rt.mainInterpreter().newThreadState(), 7_000_000));
        user.join();
        mainUser.join();
        assertTrue(errors.isEmpty(), () -> "errors: " + errors);
        assertEquals(2, interp.threadCount());
        assertEquals(interp.objectsAllocated() - 1, interp.objectsFreed(), "the queued object is not freed yet");
        DestroyReport report = interp.release().orElseThrow();
        assertEquals(0, report.leakedObjects(), "reaped, its queue merged: " + report.leakedByType());
        assertEquals(interp.objectsAllocated(), interp.objectsFreed());
        Interpreter mainInterp = rt.mainInterpreter();
        rt.close(); // used to refuse: the main interpreter still had a thread state
        assertTrue(mainInterp.isDestroyed());
        assertEquals(mainInterp.objectsAllocated() - 1, mainInterp.objectsFreed(), "the int it left is leaked");
    }
}
