package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Probes of interpreters, pauses, cross-interpreter data and dumps, through the public API. */
class InterpreterProbeTest {

    @TempDir
    Path dir;

    /** Runs {@code body} on a new platform thread; the error, if any, lands in {@code errors}. */
    private static Thread start(ConcurrentLinkedQueue<Throwable> errors, ThrowingRunnable body) {
        return Thread.ofPlatform().daemon().start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                errors.add(t);
            }
        });
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static void joinOrFail(Thread t, String what) throws InterruptedException {
        t.join(30_000); // a liveness bound, not a timing: the work takes milliseconds
        assertFalse(t.isAlive(), what + ": still running after 30 s (deadlock)");
    }

    @Test
    void twoThreadsEachAttachedInTheInterpreterTheOtherStopsDoNotDeadlock() throws Exception {
        // not closed on failure: a deadlocked pause keeps the head locks, and close would wait for them forever
        Runtime rt = Runtime.create();
        {
            Interpreter a = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CountDownLatch attached = new CountDownLatch(2);
            for (int round = 0; round < 20; round++) {
                CountDownLatch go = new CountDownLatch(1);
                Thread x = start(errors, () -> {
                    try (ThreadState inB = b.newThreadState()) {
                        attached.countDown();
                        go.await();
                        a.stopTheWorld(); // waits for y, attached in a
                        a.startTheWorld();
                        inB.checkpoint();
                        Ref.decref(inB, Ints.of(inB, 100_000));
                    }
                });
                Thread y = start(errors, () -> {
                    try (ThreadState inA = a.newThreadState()) {
                        attached.countDown();
                        go.await();
                        b.stopTheWorld(); // waits for x, attached in b
                        b.startTheWorld();
                        inA.checkpoint();
                        Ref.decref(inA, Ints.of(inA, 100_000));
                    }
                });
                go.countDown();
                joinOrFail(x, "round " + round + ": a's requester attached in b");
                joinOrFail(y, "round " + round + ": b's requester attached in a");
                assertTrue(errors.isEmpty(), () -> errors.toString());
            }
            assertEquals(0, a.release().orElseThrow().leakedObjects());
            assertEquals(0, b.release().orElseThrow().leakedObjects());
        }
        rt.close();
    }

    @Test
    void aThreadAttachedElsewhereDumpsAnInterpreterWhoseThreadDumpsItsOwn() throws Exception {
        // not closed on failure: a deadlocked pause keeps the head locks, and close would wait for them forever
        Runtime rt = Runtime.create();
        {
            Interpreter a = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            for (int round = 0; round < 5; round++) {
                int r = round;
                CountDownLatch go = new CountDownLatch(1);
                Thread x = start(errors, () -> {
                    try (ThreadState inB = b.newThreadState()) {
                        go.await();
                        a.dumpHeap(dir.resolve("a" + r + ".cdump"));
                        inB.checkpoint();
                    }
                });
                Thread y = start(errors, () -> {
                    try (ThreadState inA = a.newThreadState()) {
                        go.await();
                        b.dumpHeap(dir.resolve("b" + r + ".cdump"));
                        inA.checkpoint();
                    }
                });
                go.countDown();
                joinOrFail(x, "round " + round + ": dump of a from b");
                joinOrFail(y, "round " + round + ": dump of b from a");
                assertTrue(errors.isEmpty(), () -> errors.toString());
            }
            a.release();
            b.release();
        }
        rt.close();
    }

    @Test
    void manyInterpretersComeAndGoWithUniqueIdsAndExactReports() {
        try (Runtime rt = Runtime.create()) {
            Set<Long> ids = new HashSet<>();
            ids.add(rt.mainInterpreter().id());
            for (int i = 0; i < 40; i++) {
                Interpreter in = rt.newInterpreter(i % 2 == 0 ? InterpreterConfig.isolated()
                        : InterpreterConfig.sharedAllocator());
                assertTrue(ids.add(in.id()), "id reused: " + in.id());
                int leaks = i % 5;
                long kept;
                try (ThreadState ts = in.newThreadState()) {
                    for (int k = 0; k < leaks; k++) {
                        Strs.of(ts, "leak " + k); // never decref'd
                    }
                    long list = Lists.create(ts); // a cycle: not a leak
                    Lists.append(ts, list, list);
                    Ref.decref(ts, list);
                    kept = Dicts.create(ts);
                    Ref.decref(ts, kept);
                }
                in.acquire();
                assertTrue(in.release().isEmpty());
                DestroyReport report = in.release().orElseThrow();
                assertEquals(leaks, report.leakedObjects(), "round " + i + ": " + report.leakedByType());
                assertEquals(in.id(), report.interpreterId());
                assertTrue(in.isDestroyed());
                assertFalse(in.ownsMemory(kept));
                assertThrows(IllegalStateException.class, in::newThreadState);
                assertThrows(IllegalStateException.class, in::stopTheWorld);
                assertThrows(IllegalStateException.class, in::startTheWorld);
                assertThrows(IllegalStateException.class, in::reapDeadThreads);
                assertThrows(IllegalStateException.class, in::destroy);
                assertThrows(IllegalStateException.class, in::acquire);
                assertThrows(IllegalStateException.class, in::release);
                assertThrows(IllegalStateException.class, () -> in.dumpHeap(dir.resolve("x.cdump")));
                assertTrue(rt.lookup(in.id()).isEmpty());
            }
            assertEquals(1, rt.interpreters().size());
        }
    }

    @Test
    void destroyWhileAnotherThreadIsAttachedIsRefusedAndChangesNothing() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            CountDownLatch attached = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            long[] obj = new long[1];
            Thread t = start(errors, () -> {
                try (ThreadState ts = in.newThreadState()) {
                    obj[0] = Strs.of(ts, "held");
                    attached.countDown();
                    release.await();
                    assertEquals("held", Strs.value(ts, obj[0]));
                    Ref.decref(ts, obj[0]);
                }
            });
            attached.await();
            IllegalStateException e = assertThrows(IllegalStateException.class, in::destroy);
            assertTrue(e.getMessage().contains("thread state"), e.getMessage());
            assertThrows(IllegalStateException.class, in::release);
            assertFalse(in.isDestroyed());
            assertThrows(IllegalStateException.class, rt::close);
            release.countDown();
            joinOrFail(t, "holder");
            assertTrue(errors.isEmpty(), () -> errors.toString());
            // the reference the refused release gave back is still there
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void aThreadBoundToTwoInterpreters() {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter b = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState inA = a.newThreadState();
            assertThrows(IllegalStateException.class, b::newThreadState, "one attached at a time");
            assertThrows(IllegalStateException.class, a::newThreadState, "one per interpreter");
            long sa = Strs.of(inA, "in a");
            inA.detach();
            ThreadState inB = b.newThreadState();
            assertThrows(IllegalStateException.class, inA::attach, "b's is attached");
            assertThrows(IllegalStateException.class, () -> Strs.value(inA, sa), "detached");
            assertThrows(IllegalArgumentException.class, () -> Strs.value(inB, sa), "another interpreter's object");
            assertThrows(IllegalArgumentException.class, () -> Ref.decref(inB, sa));
            long lb = Lists.create(inB);
            assertThrows(IllegalArgumentException.class, () -> Lists.append(inB, lb, sa));
            assertEquals(0, Lists.size(inB, lb));
            Ref.decref(inB, lb);
            inB.detach();
            inA.attach();
            assertEquals("in a", Strs.value(inA, sa));
            Ref.decref(inA, sa);
            inA.close();
            inB.close();
            assertEquals(0, a.release().orElseThrow().leakedObjects());
            assertEquals(0, b.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void crossInterpreterDataNestedLargeAndAfterItsSourceIsGone() {
        try (Runtime rt = Runtime.create()) {
            Interpreter src = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter dst = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            CrossInterpreter.Shared shared;
            CrossInterpreter.Shared big;
            String large = "\uD83D\uDE00".repeat(500_000);
            try (ThreadState ts = src.newThreadState()) {
                long s = Strs.of(ts, large);
                long inner = Tuples.of(ts, s, Ints.of(ts, Long.MIN_VALUE), Floats.of(ts, Double.NaN), rt.none(),
                        rt.bool(true), Bytes.of(ts, new byte[] {(byte) 0xFF, 0}));
                long outer = Tuples.of(ts, inner, inner, Tuples.of(ts));
                shared = CrossInterpreter.share(ts, outer);
                big = CrossInterpreter.share(ts, s);
                long list = Lists.create(ts);
                long withList = Tuples.of(ts, s, list);
                assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.share(ts, list));
                assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.share(ts, withList));
                long dict = Dicts.create(ts);
                assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.share(ts, dict));
                long type = Types.newHeapType(ts, "T", 0);
                assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.share(ts, type));
                assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.share(ts,
                        Instances.create(ts, type)));
                // leaks on purpose: the source goes away with them
            }
            assertTrue(src.release().orElseThrow().leakedObjects() > 0);
            try (ThreadState ts = dst.newThreadState()) {
                long copy = CrossInterpreter.unshare(ts, shared);
                assertEquals(3, Tuples.size(ts, copy));
                long inner = Tuples.get(ts, copy, 0);
                long inner2 = Tuples.get(ts, copy, 1);
                assertTrue(inner != inner2, "rebuilt as two tuples");
                long s = Tuples.get(ts, inner, 0);
                assertEquals(large, Strs.value(ts, s));
                long i = Tuples.get(ts, inner, 1);
                assertEquals(Long.MIN_VALUE, Ints.value(ts, i));
                long f = Tuples.get(ts, inner, 2);
                assertTrue(Double.isNaN(Floats.value(ts, f)));
                assertEquals(rt.none(), Tuples.get(ts, inner, 3));
                assertEquals(rt.bool(true), Tuples.get(ts, inner, 4));
                long b = Tuples.get(ts, inner, 5);
                assertEquals(2, Bytes.value(ts, b).length);
                long bigCopy = CrossInterpreter.unshare(ts, big);
                assertEquals(large, Strs.value(ts, bigCopy));
                shared.close();
                shared.close();
                assertThrows(IllegalStateException.class, () -> CrossInterpreter.unshare(ts, shared));
                for (long o : new long[] {copy, inner, inner2, s, i, f, b, bigCopy}) {
                    Ref.decref(ts, o);
                }
            }
            big.close();
            assertEquals(0, dst.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void anOwnerThatClosedLeavesItsObjectsToWhoeverDropsTheLastReference() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            int n = 2000;
            long[] objs = new long[n];
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            try (ThreadState main = in.newThreadState()) {
                main.detach();
                Thread owner = start(errors, () -> {
                    try (ThreadState ts = in.newThreadState()) {
                        for (int i = 0; i < n; i++) {
                            objs[i] = i % 3 == 0 ? Lists.create(ts) : Strs.of(ts, "o" + i);
                        }
                    }
                });
                joinOrFail(owner, "owner");
                main.attach();
                long before = in.objectsFreed();
                for (int i = 0; i < n; i++) {
                    assertEquals(1, Ref.refcount(main, objs[i]));
                    Ref.decref(main, objs[i]);
                    assertFalse(Ref.isObject(main, objs[i]), "object " + i + " survived its last reference");
                }
                assertEquals(n, in.objectsFreed() - before);
                // the same, with the owner still open but detached: its queue is merged by the queuer
                long[] more = new long[n];
                CountDownLatch made = new CountDownLatch(1);
                CountDownLatch done = new CountDownLatch(1);
                main.detach();
                Thread owner2 = start(errors, () -> {
                    try (ThreadState ts = in.newThreadState()) {
                        for (int i = 0; i < n; i++) {
                            more[i] = Ints.of(ts, 1000 + i);
                        }
                        ts.detach();
                        made.countDown();
                        done.await();
                        ts.attach();
                    }
                });
                made.await();
                main.attach();
                before = in.objectsFreed();
                for (int i = 0; i < n; i++) {
                    Ref.decref(main, more[i]);
                }
                assertEquals(n, in.objectsFreed() - before);
                done.countDown();
                main.detach();
                joinOrFail(owner2, "owner2");
                main.attach();
            }
            assertTrue(errors.isEmpty(), () -> errors.toString());
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void dumpsOfARuntimeWithObjectsWhileOthersMutate() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter shared = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter own = rt.newInterpreter(InterpreterConfig.isolated());
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> workers = new ArrayList<>();
            Interpreter[] where = {shared, own, rt.mainInterpreter()};
            for (Interpreter in : where) {
                workers.add(start(errors, () -> {
                    try (ThreadState ts = in.newThreadState()) {
                        long list = Lists.create(ts);
                        long dict = Dicts.create(ts);
                        int i = 0;
                        while (!stop.get()) {
                            long v = i % 2 == 0 ? Strs.of(ts, "v" + i) : Tuples.of(ts, list);
                            Lists.append(ts, list, v);
                            long k = Ints.of(ts, i % 300 + 1000);
                            Dicts.put(ts, dict, k, v);
                            Ref.decref(ts, k);
                            Ref.decref(ts, v);
                            if (Lists.size(ts, list) > 200) {
                                Ref.decref(ts, Lists.pop(ts, list));
                            }
                            // interned strs and shared data live in the main allocator, whoever makes them
                            Strs.intern(ts, "interned " + (i % 5000));
                            try (CrossInterpreter.Shared s = CrossInterpreter.share(ts, Ints.of(ts, 7))) {
                                assertNotNull(s);
                            }
                            ts.checkpoint();
                            i++;
                        }
                        Ref.decref(ts, list);
                        Ref.decref(ts, dict);
                    }
                }));
            }
            for (int d = 0; d < 6; d++) {
                Path p1 = dir.resolve("rt" + d + ".cdump");
                Path p2 = dir.resolve("own" + d + ".cdump");
                rt.dumpHeap(p1);
                own.dumpHeap(p2);
                assertTrue(Files.size(p1) > 0 && Files.size(p2) > 0);
            }
            stop.set(true);
            for (Thread t : workers) {
                joinOrFail(t, "worker");
            }
            assertTrue(errors.isEmpty(), () -> errors.toString());
            assertEquals(0, shared.release().orElseThrow().leakedObjects());
            assertEquals(0, own.release().orElseThrow().leakedObjects());
            TimeUnit.MILLISECONDS.sleep(0);
        }
    }
}
