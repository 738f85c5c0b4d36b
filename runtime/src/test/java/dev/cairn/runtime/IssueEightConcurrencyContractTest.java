package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 8's concurrent sentences through the public API: biased reference counting across threads and owners
 * that exit, stop-the-world, the cycle collector's count, and lock-free reads of lists and dicts. No verdict
 * depends on timing: a "still stopped" check can only fail when the implementation lets a thread run.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IssueEightConcurrencyContractTest {

    /** Platform threads that record the first failure; {@link #join()} rethrows it. */
    private static final class Workers {
        final List<Thread> threads = new ArrayList<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        void start(String name, ThrowingRunnable body) {
            threads.add(Thread.ofPlatform().name(name).start(() -> {
                try {
                    body.run();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }

        void join() throws InterruptedException {
            for (Thread t : threads) {
                t.join(60_000);
                assertFalse(t.isAlive(), t.getName() + " hangs");
            }
            if (failure.get() != null) {
                throw new AssertionError("a worker failed", failure.get());
            }
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    // ---- biased reference counting ----

    @Test
    void countsStayExactWhenOtherThreadsIncrefAndDecrefAnObjectOwnedByOne() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.mainInterpreter();
            ThreadState owner = interp.newThreadState();
            long obj = Strs.of(owner, "shared");
            long list = Lists.create(owner);
            owner.detach();
            int threads = 4;
            int rounds = 20_000;
            CyclicBarrier start = new CyclicBarrier(threads);
            Workers w = new Workers();
            for (int t = 0; t < threads; t++) {
                w.start("sharer-" + t, () -> {
                    try (ThreadState ts = interp.newThreadState()) {
                        start.await();
                        for (int i = 0; i < rounds; i++) {
                            Ref.incref(ts, obj);
                            if (i % 100 == 0) {
                                Lists.append(ts, list, obj); // held by the list
                                ts.checkpoint();
                            }
                        }
                        for (int i = 0; i < rounds; i++) {
                            Ref.decref(ts, obj);
                        }
                    }
                });
            }
            w.join();
            owner.attach();
            assertEquals(1 + threads * (rounds / 100), Ref.refcount(owner, obj));
            long freed = interp.objectsFreed();
            Ref.decref(owner, list);
            assertEquals(1, Ref.refcount(owner, obj));
            Ref.decref(owner, obj);
            Gc.collect(owner);
            assertEquals(freed + 2, interp.objectsFreed(), "the list and the str, each once");
            assertFalse(Ref.isObject(owner, obj));
            owner.close();
        }
    }

    @Test
    void anObjectWhoseOwnerExitedIsFreedByWhoeverDropsTheLastReference() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            long[] made = new long[3];
            Thread owner = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    made[0] = Strs.of(ts, "outlives its owner");
                    made[1] = Lists.create(ts);
                    Lists.append(ts, made[1], made[0]);
                    made[2] = Ints.of(ts, 1 << 20);
                    Ref.decref(ts, made[0]); // only the list holds it now
                }
            });
            owner.join();
            try (ThreadState ts = interp.newThreadState()) {
                assertEquals(1, Ref.refcount(ts, made[0]));
                long got = Lists.get(ts, made[1], 0);
                assertEquals("outlives its owner", Strs.value(ts, got));
                Ref.decref(ts, got);
                long freed = interp.objectsFreed();
                Ref.decref(ts, made[1]);
                Ref.decref(ts, made[2]);
                Gc.collect(ts);
                assertEquals(freed + 3, interp.objectsFreed());
                for (long o : made) {
                    assertFalse(Ref.isObject(ts, o));
                }
            }
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void objectsSharedByThreadsThatComeAndGoAreFreedExactlyOnce() throws Exception {
        long seed = System.nanoTime();
        System.out.println("objectsSharedByThreadsThatComeAndGo seed " + seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState main = interp.newThreadState();
            long shared = Lists.create(main);
            for (int i = 0; i < 64; i++) {
                long v = Ints.of(main, 10_000 + i);
                Lists.append(main, shared, v);
                Ref.decref(main, v);
            }
            main.detach();
            Workers w = new Workers();
            for (int t = 0; t < 4; t++) {
                long s = seed + t;
                w.start("come-and-go-" + t, () -> {
                    Random random = new Random(s);
                    for (int gen = 0; gen < 10; gen++) {
                        try (ThreadState ts = interp.newThreadState()) {
                            List<Long> held = new ArrayList<>();
                            for (int i = 0; i < 200; i++) {
                                long item = Lists.get(ts, shared, random.nextInt(64));
                                assertTrue(Ints.value(ts, item) >= 10_000);
                                held.add(item);
                                if (random.nextInt(4) == 0) {
                                    long fresh = Ints.of(ts, 10_000 + random.nextInt(1000));
                                    Lists.set(ts, shared, random.nextInt(64), fresh); // made here, held there
                                    Ref.decref(ts, fresh);
                                }
                                ts.checkpoint();
                            }
                            // half dropped here, half left to the thread's close: its owner exits with them
                            for (int i = 0; i < held.size(); i += 2) {
                                Ref.decref(ts, held.get(i));
                            }
                            for (int i = 1; i < held.size(); i += 2) {
                                Ref.decref(ts, held.get(i));
                            }
                        }
                    }
                });
            }
            w.join();
            main.attach();
            Ref.decref(main, shared);
            Gc.collect(main);
            assertEquals(interp.objectsAllocated(), interp.objectsFreed(), "allocated != freed");
            main.close();
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void heapTypesCountedPerThreadReachTheirTrueCountOnceMerged() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            ThreadState main = interp.newThreadState();
            long type = Types.newHeapType(main, "Node", 1);
            long keep = Lists.create(main);
            main.detach();
            Workers w = new Workers();
            for (int t = 0; t < 4; t++) {
                w.start("instances-" + t, () -> {
                    try (ThreadState ts = interp.newThreadState()) {
                        for (int i = 0; i < 500; i++) {
                            long o = Instances.create(ts, type);
                            if (i % 5 == 0) {
                                Lists.append(ts, keep, o);
                            }
                            Ref.decref(ts, o);
                        }
                    }
                });
            }
            w.join();
            main.attach();
            Gc.collect(main);
            assertEquals(1 + 4 * 100, Ref.refcount(main, type), "the type's count after every thread merged");
            Ref.decref(main, keep);
            Ref.decref(main, type);
            Gc.collect(main);
            assertFalse(Ref.isObject(main, type), "a heap type with no reference left survived the collection");
            main.close();
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    // ---- stop-the-world ----

    @Test
    void attachedThreadsStopAtTheirNextCheckpointAndDetachedOnesCannotAttach() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            AtomicLong progress = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch detached = new CountDownLatch(1);
            CountDownLatch tryAttach = new CountDownLatch(1);
            AtomicBoolean attachedAgain = new AtomicBoolean();
            Workers w = new Workers();
            w.start("looping", () -> {
                try (ThreadState ts = interp.newThreadState()) {
                    running.countDown();
                    while (!stop.get()) {
                        ts.checkpoint();
                        progress.incrementAndGet();
                    }
                }
            });
            w.start("blocked", () -> {
                ThreadState ts = interp.newThreadState();
                ts.detach();
                detached.countDown();
                tryAttach.await();
                ts.attach();
                attachedAgain.set(true);
                ts.close();
            });
            running.await();
            detached.await();
            interp.stopTheWorld();
            long frozen = progress.get();
            tryAttach.countDown();
            for (int i = 0; i < 50; i++) {
                Thread.sleep(1);
                assertEquals(frozen, progress.get(), "an attached thread ran on during the pause");
                assertFalse(attachedAgain.get(), "a detached thread attached during the pause");
            }
            interp.startTheWorld();
            while (progress.get() == frozen || !attachedAgain.get()) {
                Thread.onSpinWait();
            }
            stop.set(true);
            w.join();
            interp.release();
        }
    }

    @Test
    void stopTheWorldMisuseIsRefusedAndLeavesNoPauseBehind() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            interp.stopTheWorld();
            assertThrows(IllegalStateException.class, interp::stopTheWorld, "nested");
            assertThrows(IllegalStateException.class, rt::stopTheWorld, "runtime pause inside an interpreter's");
            Throwable fromOther = IssueEightContractTest.onThread(() -> {
                try {
                    interp.startTheWorld();
                    return null;
                } catch (IllegalStateException e) {
                    return e;
                }
            });
            assertTrue(fromOther instanceof IllegalStateException, "another thread started our pause");
            interp.startTheWorld();
            assertThrows(IllegalStateException.class, interp::startTheWorld, "started twice");
            rt.stopTheWorld();
            assertThrows(IllegalStateException.class, rt::stopTheWorld, "nested");
            assertThrows(IllegalStateException.class, interp::stopTheWorld);
            assertThrows(IllegalStateException.class, interp::startTheWorld, "the runtime's pause");
            rt.startTheWorld();
            assertThrows(IllegalStateException.class, rt::startTheWorld);
            // no pause is left behind: another thread can still attach and stop the world
            IssueEightContractTest.onThread(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    interp.stopTheWorld();
                    Gc.collect(ts);
                    interp.startTheWorld();
                    rt.stopTheWorld();
                    rt.startTheWorld();
                }
                return null;
            });
            interp.release();
        }
    }

    @Test
    void aThreadWithADetachedStateMayStopTheWorldAndAttachInsideItsOwnPause() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState ts = interp.newThreadState();
            long list = Lists.create(ts);
            Lists.append(ts, list, list);
            Ref.decref(ts, list);
            ts.detach();
            interp.stopTheWorld();
            ts.attach(); // the caller's own pause does not stop it
            assertEquals(1, Gc.collect(ts));
            ts.detach();
            interp.startTheWorld();
            ts.attach();
            ts.close();
            interp.release();
        }
    }

    /**
     * A thread attached in one interpreter stops a lower one: its state is detached for the pause. If it attaches
     * that state again meanwhile (allowed: its id is higher), starting the world must still succeed and leave it
     * attached, not throw after the world was started.
     */
    @Test
    void startingAPauseAfterTheCallerReattachedItsOtherStateSucceeds() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter lower = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter higher = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            assertTrue(lower.id() < higher.id());
            ThreadState ts = higher.newThreadState();
            lower.stopTheWorld();
            assertFalse(ts.isAttached(), "detached for the pause of another interpreter");
            ts.attach();
            long s = Strs.of(ts, "used during the other interpreter's pause");
            lower.startTheWorld();
            assertTrue(ts.isAttached());
            assertEquals(ts, rt.current());
            Ref.decref(ts, s);
            lower.stopTheWorld(); // and the next pause works
            lower.startTheWorld();
            assertTrue(ts.isAttached());
            // closed during the pause: nothing to attach again
            lower.stopTheWorld();
            ts.close();
            lower.startTheWorld();
            assertNull(rt.current());
            lower.release();
            higher.release();
        }
    }

    @Test
    void twoThreadsStoppingTheWorldAtOnceTakeTurnsWithoutDeadlock() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            AtomicLong inside = new AtomicLong();
            Workers w = new Workers();
            for (int t = 0; t < 3; t++) {
                int which = t;
                w.start("stopper-" + t, () -> {
                    Interpreter home = which == 1 ? b : a;
                    try (ThreadState ts = home.newThreadState()) {
                        for (int i = 0; i < 200; i++) {
                            switch ((i + which) % 3) {
                                case 0 -> {
                                    a.stopTheWorld();
                                    assertEquals(1, inside.incrementAndGet(), "two pauses of a at once");
                                    inside.decrementAndGet();
                                    a.startTheWorld();
                                }
                                case 1 -> {
                                    rt.stopTheWorld();
                                    assertEquals(1, inside.incrementAndGet(), "a's pause inside the runtime's");
                                    inside.decrementAndGet();
                                    rt.startTheWorld();
                                }
                                default -> {
                                    b.stopTheWorld();
                                    b.startTheWorld();
                                }
                            }
                            ts.checkpoint();
                        }
                    }
                });
            }
            w.join();
            a.release();
            b.release();
        }
    }

    @Test
    void destroyingAnInterpreterInsideItsOwnPause() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState ts = interp.newThreadState()) {
                Strs.of(ts, "leaked");
            }
            interp.stopTheWorld();
            DestroyReport report = interp.destroy();
            assertEquals(1, report.leakedObjects());
            // the pause is still ours to end, or at least refused clearly; either way nothing is left stopped
            try {
                interp.startTheWorld();
            } catch (IllegalStateException e) {
                // acceptable: a destroyed interpreter's pause ended with it
            }
            rt.stopTheWorld();
            rt.startTheWorld();
            Interpreter next = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            IssueEightContractTest.onThread(() -> {
                try (ThreadState ts = next.newThreadState()) {
                    next.stopTheWorld();
                    next.startTheWorld();
                }
                return null;
            });
            next.release();
        }
    }

    /**
     * Writers of one list contend on its one-byte mutex (parking while detached) while another thread stops the
     * world and collects over and over: no append is lost or doubled, no thread hangs.
     */
    @Test
    void writersContendingOnOneListWhilePausesAndCollectionsComeAndGo() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState main = interp.newThreadState();
            long list = Lists.create(main);
            long dict = Dicts.create(main);
            main.detach();
            int writers = 3;
            int perWriter = 3000;
            AtomicBoolean done = new AtomicBoolean();
            Workers w = new Workers();
            for (int t = 0; t < writers; t++) {
                int id = t;
                w.start("appender-" + t, () -> {
                    try (ThreadState ts = interp.newThreadState()) {
                        for (int i = 0; i < perWriter; i++) {
                            long v = Ints.of(ts, id * 1_000_000L + i + 1000);
                            Lists.append(ts, list, v);
                            Dicts.put(ts, dict, v, v);
                            Ref.decref(ts, v);
                            if (i % 64 == 0) {
                                ts.checkpoint();
                            }
                        }
                    }
                });
            }
            w.start("pauser", () -> {
                try (ThreadState ts = interp.newThreadState()) {
                    while (!done.get()) {
                        Gc.collect(ts);
                        interp.stopTheWorld();
                        interp.startTheWorld();
                        rt.stopTheWorld();
                        rt.startTheWorld();
                        ts.checkpoint();
                    }
                }
            });
            for (Thread t : w.threads.subList(0, writers)) {
                t.join(60_000);
            }
            done.set(true);
            w.join();
            main.attach();
            assertEquals(writers * perWriter, Lists.size(main, list), "appends lost or doubled");
            assertEquals(writers * perWriter, Dicts.size(main, dict), "puts lost or doubled");
            java.util.Set<Long> seen = new java.util.HashSet<>();
            for (int i = 0; i < writers * perWriter; i++) {
                long v = Lists.get(main, list, i);
                assertTrue(seen.add(Ints.value(main, v)), "a value twice");
                assertEquals(4, Ref.refcount(main, v), "the list's, the dict's key and value, and ours: " + i);
                Ref.decref(main, v);
            }
            Ref.decref(main, list);
            Ref.decref(main, dict);
            Gc.collect(main);
            assertEquals(interp.objectsAllocated(), interp.objectsFreed());
            main.close();
            interp.release();
        }
    }

    @Test
    void objectsAreBiasedToTheirMakerUntilItsLocalCountEnds() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.mainInterpreter();
            ThreadState ts = interp.newThreadState();
            long s = Strs.of(ts, "biased");
            assertEquals(ts.id(), Ref.ownerId(ts, s));
            Ref.incref(ts, s);
            ts.detach();
            IssueEightContractTest.onThread(() -> {
                try (ThreadState other = interp.newThreadState()) {
                    assertEquals(ts.id(), Ref.ownerId(other, s), "a non-owner's incref moved the bias");
                    Ref.incref(other, s); // shared: +1
                    assertEquals(3, Ref.refcount(other, s));
                }
                return null;
            });
            ts.attach();
            Ref.decref(ts, s);
            Ref.decref(ts, s); // local count 0, one shared reference left: the owner gives up its bias
            assertEquals(0, Ref.ownerId(ts, s));
            assertEquals(1, Ref.refcount(ts, s));
            assertTrue(Ref.isObject(ts, s));
            Ref.decref(ts, s);
            assertFalse(Ref.isObject(ts, s));
            ts.close();
        }
    }

    // ---- the collector ----

    @Test
    void collectReturnsExactlyHowManyObjectsItFreed() {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState ts = interp.newThreadState()) {
                assertEquals(0, Gc.collect(ts), "nothing to collect");
                // a list that holds itself and three non-immortal ints: 4 objects
                long l = Lists.create(ts);
                Lists.append(ts, l, l);
                for (int i = 0; i < 3; i++) {
                    long v = Ints.of(ts, 1_000_000 + i);
                    Lists.append(ts, l, v);
                    Ref.decref(ts, v);
                }
                Lists.append(ts, l, rt.none());
                Lists.append(ts, l, Ints.of(ts, 3)); // immortal: not counted
                // a dict that maps a str key to itself: the dict and the key
                long d = Dicts.create(ts);
                long k = Strs.of(ts, "self");
                Dicts.put(ts, d, k, d);
                Ref.decref(ts, k);
                // a tuple inside a list inside the tuple's only holder... a 3-cycle through a heap-type instance
                long type = Types.newHeapType(ts, "Box", 1);
                long box = Instances.create(ts, type);
                long inner = Lists.create(ts);
                long tup = Tuples.of(ts, inner);
                Lists.append(ts, inner, box);
                Instances.set(ts, box, 0, tup);
                Ref.decref(ts, inner);
                Ref.decref(ts, tup);
                // something alive that points into garbage-looking structure: must survive
                long root = Lists.create(ts);
                long child = Lists.create(ts);
                Lists.append(ts, child, root);
                Lists.append(ts, root, child);
                Ref.decref(ts, child);
                Ref.decref(ts, l);
                Ref.decref(ts, d);
                Ref.decref(ts, box);
                assertEquals(4 + 2 + 3, Gc.collect(ts));
                assertEquals(0, Gc.collect(ts), "a second collection found more");
                assertEquals(1, Lists.size(ts, root));
                Ref.decref(ts, type);
                Ref.decref(ts, root);
                long freed = Gc.collect(ts);
                assertEquals(4, freed, "the root, its child, and the heap type whose last instance died, with its name");
            }
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void cyclesBuiltAcrossThreadsAreCollectedWhileTheirMakersStillRun() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState main = interp.newThreadState();
            long exchange = Lists.create(main);
            main.detach();
            int threads = 3;
            int perThread = 50;
            CyclicBarrier made = new CyclicBarrier(threads + 1);
            CyclicBarrier linked = new CyclicBarrier(threads + 1);
            CountDownLatch collected = new CountDownLatch(1);
            AtomicBoolean stop = new AtomicBoolean();
            Workers w = new Workers();
            for (int t = 0; t < threads; t++) {
                w.start("cycle-maker-" + t, () -> {
                    try (ThreadState ts = interp.newThreadState()) {
                        for (int i = 0; i < perThread; i++) {
                            long l = i % 2 == 0 ? Lists.create(ts) : Dicts.create(ts);
                            Lists.append(ts, exchange, l);
                            Ref.decref(ts, l);
                        }
                        ts.detach();
                        made.await();
                        linked.await();
                        ts.attach();
                        // keep running (and checkpointing) while main collects
                        while (!stop.get()) {
                            ts.checkpoint();
                        }
                        collected.await();
                    }
                });
            }
            made.await();
            main.attach();
            // link each container to the next one, made by another thread, into one big ring
            long n = Lists.size(main, exchange);
            for (long i = 0; i < n; i++) {
                long a = Lists.get(main, exchange, i);
                long b = Lists.get(main, exchange, (i + 1) % n);
                if (Types.typeName(main, a).equals("list")) {
                    Lists.append(main, a, b);
                } else {
                    long key = Ints.of(main, 5000 + i);
                    Dicts.put(main, a, key, b);
                    Ref.decref(main, key);
                }
                Ref.decref(main, a);
                Ref.decref(main, b);
            }
            linked.await();
            long freedBefore = interp.objectsFreed();
            Ref.decref(main, exchange); // dies by its count: the ring it held is garbage now
            assertEquals(freedBefore + 1, interp.objectsFreed());
            long freed;
            try {
                freed = Gc.collect(main);
            } finally {
                stop.set(true);
                collected.countDown();
            }
            // every container, plus the dicts' int keys
            assertEquals(threads * perThread + (long) threads * perThread / 2, freed);
            main.close();
            w.join();
            assertEquals(interp.objectsAllocated(), interp.objectsFreed());
            interp.release();
        }
    }

    // ---- lock-free reads ----

    @Test
    void listReadersWhileWritersAppendReplaceAndPopNeverSeeFreedOrForeignItems() throws Exception {
        long seed = System.nanoTime();
        System.out.println("listReaders seed " + seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState main = interp.newThreadState();
            long list = Lists.create(main);
            long first = Ints.of(main, 1_000_000);
            Lists.append(main, list, first);
            Ref.decref(main, first);
            main.detach();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong reads = new AtomicLong();
            Workers w = new Workers();
            for (int r = 0; r < 2; r++) {
                long s = seed + r;
                w.start("reader-" + r, () -> {
                    Random random = new Random(s);
                    try (ThreadState ts = interp.newThreadState()) {
                        while (!stop.get()) {
                            long size = Lists.size(ts, list);
                            try {
                                long item = Lists.get(ts, list, random.nextLong(Math.max(1, size)));
                                long v = Ints.value(ts, item); // a freed item is refused here: checked mode
                                assertTrue(v >= 1_000_000 && v < 2_000_000, "torn or foreign value " + v);
                                Ref.decref(ts, item);
                            } catch (IndexOutOfBoundsException popped) {
                                // the list shrank between size and get
                            }
                            reads.incrementAndGet();
                            ts.checkpoint();
                        }
                    }
                });
            }
            w.start("writer", () -> {
                Random random = new Random(seed ^ 0x5DEECE66DL);
                try (ThreadState ts = interp.newThreadState()) {
                    for (int i = 0; i < 20_000; i++) {
                        long v = Ints.of(ts, 1_000_000 + random.nextInt(1_000_000));
                        long size = Lists.size(ts, list);
                        int op = random.nextInt(10);
                        if (op < 5 || size < 2) {
                            Lists.append(ts, list, v);
                        } else if (op < 9) {
                            Lists.set(ts, list, random.nextLong(size), v);
                        } else {
                            Ref.decref(ts, Lists.pop(ts, list));
                        }
                        Ref.decref(ts, v);
                        if (i % 16 == 0) {
                            ts.checkpoint();
                        }
                    }
                } finally {
                    stop.set(true);
                }
            });
            w.join();
            assertTrue(reads.get() > 0);
            main.attach();
            Ref.decref(main, list);
            Gc.collect(main);
            assertEquals(interp.objectsAllocated(), interp.objectsFreed());
            main.close();
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void dictReadersWhileAWriterPutsRemovesAndResizesSeeOnlyLiveValues() throws Exception {
        long seed = System.nanoTime();
        System.out.println("dictReaders seed " + seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            ThreadState main = interp.newThreadState();
            long dict = Dicts.create(main);
            main.detach();
            AtomicBoolean stop = new AtomicBoolean();
            Workers w = new Workers();
            for (int r = 0; r < 2; r++) {
                long s = seed + r;
                w.start("dict-reader-" + r, () -> {
                    Random random = new Random(s);
                    try (ThreadState ts = interp.newThreadState()) {
                        while (!stop.get()) {
                            int k = random.nextInt(300);
                            long key = k % 2 == 0 ? Ints.of(ts, k) : Strs.of(ts, "key-" + k);
                            long v = Dicts.get(ts, dict, key);
                            if (v != 0) {
                                // the writer stores k * 1_000_000 + a version under key k
                                assertEquals(k, Ints.value(ts, v) / 1_000_000, "a value under the wrong key");
                                Ref.decref(ts, v);
                            }
                            Ref.decref(ts, key);
                            ts.checkpoint();
                        }
                    }
                });
            }
            w.start("dict-writer", () -> {
                Random random = new Random(seed ^ 0xABCDEFL);
                try (ThreadState ts = interp.newThreadState()) {
                    for (int i = 0; i < 20_000; i++) {
                        int k = random.nextInt(300);
                        long key = k % 2 == 0 ? Ints.of(ts, k) : Strs.of(ts, "key-" + k);
                        if (random.nextInt(3) == 0) {
                            Dicts.remove(ts, dict, key);
                        } else {
                            long v = Ints.of(ts, k * 1_000_000L + 1000 + random.nextInt(1000));
                            Dicts.put(ts, dict, key, v);
                            Ref.decref(ts, v);
                        }
                        Ref.decref(ts, key);
                        if (i % 32 == 0) {
                            ts.checkpoint();
                        }
                    }
                } finally {
                    stop.set(true);
                }
            });
            w.join();
            main.attach();
            Ref.decref(main, dict);
            Gc.collect(main);
            assertEquals(interp.objectsAllocated(), interp.objectsFreed());
            main.close();
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void anInterpreterDumpWithObjectsIsWrittenWhileOthersRun(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch running = new CountDownLatch(1);
            Workers w = new Workers();
            w.start("mutator", () -> {
                try (ThreadState ts = interp.newThreadState()) {
                    long list = Lists.create(ts);
                    running.countDown();
                    while (!stop.get()) {
                        long v = Strs.of(ts, "value");
                        Lists.append(ts, list, v);
                        Ref.decref(ts, v);
                        if (Lists.size(ts, list) > 100) {
                            Ref.decref(ts, list);
                            list = Lists.create(ts);
                        }
                        ts.checkpoint();
                    }
                    Ref.decref(ts, list);
                }
            });
            running.await();
            java.nio.file.Path dump = dir.resolve("interp.cdump");
            interp.dumpHeap(dump);
            stop.set(true);
            w.join();
            assertTrue(java.nio.file.Files.size(dump) > 0);
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    static void assertNoFailure(AtomicReference<Throwable> failure) {
        assertNull(failure.get());
    }
}
