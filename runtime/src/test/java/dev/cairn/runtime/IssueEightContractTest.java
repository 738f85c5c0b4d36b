package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * Issue 8 (interpreters, thread states, objects), sentence by sentence, through the public API only: what a new
 * user reading the issue would try. The concurrent parts (biased counting across threads, stop-the-world, the
 * collector, lock-free reads) are in {@link IssueEightConcurrencyContractTest}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IssueEightContractTest {

    /** Runs {@code body} on a new platform thread; returns its result or rethrows what it threw. */
    static <T> T onThread(Callable<T> body) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                result.set(body.call());
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.join();
        if (thrown.get() instanceof Exception e) {
            throw e;
        }
        if (thrown.get() instanceof Error e) {
            throw e;
        }
        return result.get();
    }

    // ---- interpreters ----

    @Test
    void interpretersHaveUniqueInt64IdsAWhenceAndAreFoundByLookup() {
        try (Runtime rt = Runtime.create()) {
            Interpreter main = rt.mainInterpreter();
            assertEquals(Whence.RUNTIME, main.whence());
            Interpreter api = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter shared = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter adopted = rt.adoptInterpreter(InterpreterConfig.sharedAllocator());
            assertEquals(Whence.API, api.whence());
            assertEquals(Whence.API, shared.whence());
            assertEquals(Whence.ADOPTED, adopted.whence());
            assertTrue(api.ownsAllocator());
            assertFalse(shared.ownsAllocator());
            assertFalse(main.ownsAllocator() && shared.ownsAllocator());
            Set<Long> ids = new HashSet<>(List.of(main.id(), api.id(), shared.id(), adopted.id()));
            assertEquals(4, ids.size(), "ids are not unique");
            for (Interpreter i : List.of(main, api, shared, adopted)) {
                assertSame(i, rt.lookup(i.id()).orElseThrow());
            }
            assertEquals(4, rt.interpreters().size());
            api.release();
            assertEquals(Optional.empty(), rt.lookup(api.id()), "a destroyed interpreter is still found");
            Interpreter next = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            assertFalse(ids.contains(next.id()), "an id was reused: " + next.id());
            next.release();
            shared.release();
        }
    }

    @Test
    void theApiRefusesToRunCodeInOrDestroyWhatItDidNotCreate() {
        try (Runtime rt = Runtime.create()) {
            Interpreter adopted = rt.adoptInterpreter(InterpreterConfig.isolated());
            assertThrows(IllegalStateException.class, adopted::newThreadState, "runs code in an adopted one");
            assertThrows(IllegalStateException.class, adopted::destroy);
            assertTrue(adopted.release().isEmpty(), "the last release destroyed an adopted interpreter");
            assertFalse(adopted.isDestroyed());
            adopted.acquire();
            adopted.release();
            assertThrows(IllegalStateException.class, rt.mainInterpreter()::destroy);
            assertTrue(rt.mainInterpreter().release().isEmpty());
            assertFalse(rt.mainInterpreter().isDestroyed());
            rt.mainInterpreter().acquire();
        }
    }

    @Test
    void interpretersAreReferenceCountedAndTheLastReleaseDestroysAndReports() {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            assertSame(interp, interp.acquire());
            assertTrue(interp.release().isEmpty(), "destroyed with a reference left");
            assertFalse(interp.isDestroyed());
            long leaked;
            try (ThreadState ts = interp.newThreadState()) {
                leaked = Strs.of(ts, "kept alive");
                Lists.create(ts); // kept too
                long garbage = Lists.create(ts);
                Lists.append(ts, garbage, garbage); // a cycle: the last collection frees it, not a leak
                Ref.decref(ts, garbage);
                assertTrue(interp.ownsMemory(leaked));
            }
            DestroyReport report = interp.release().orElseThrow();
            assertTrue(interp.isDestroyed());
            assertEquals(interp.id(), report.interpreterId());
            assertEquals(2, report.leakedObjects(), report.toString());
            assertEquals(Map.of("str", 1L, "list", 1L), report.leakedByType());
            assertTrue(report.bytesReturned() > 0);
            assertFalse(interp.ownsMemory(leaked), "a destroyed interpreter still owns memory");
            assertThrows(IllegalStateException.class, interp::release);
            assertThrows(IllegalStateException.class, interp::acquire);
            assertThrows(IllegalStateException.class, interp::newThreadState);
            assertThrows(IllegalStateException.class, interp::destroy);
            assertThrows(IllegalStateException.class, interp::stopTheWorld);
        }
    }

    @Test
    void anInterpreterWithNothingLeftReportsNoLeaks() {
        try (Runtime rt = Runtime.create()) {
            for (InterpreterConfig config : List.of(InterpreterConfig.isolated(),
                    InterpreterConfig.sharedAllocator())) {
                Interpreter interp = rt.newInterpreter(config);
                try (ThreadState ts = interp.newThreadState()) {
                    long d = Dicts.create(ts);
                    long k = Strs.of(ts, "k");
                    Dicts.put(ts, d, k, Ints.of(ts, 1_000_000)); // leaks the int's creating reference on purpose
                    Ref.decref(ts, k);
                    Ref.decref(ts, d);
                    Ref.decref(ts, Strs.intern(ts, "interned")); // immortal: decref does nothing
                    Ref.decref(ts, rt.none());
                }
                DestroyReport report = interp.destroy();
                assertEquals(1, report.leakedObjects(), config + ": " + report);
                assertEquals(Map.of("int", 1L), report.leakedByType());
            }
        }
    }

    @Test
    void destroyingAnInterpreterWhileAnotherThreadHasAThreadStateIsRefusedAndChangesNothing() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            long[] obj = new long[1];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    obj[0] = Lists.create(ts);
                    attached.countDown();
                    release.await();
                    // still usable after the refused destruction
                    Lists.append(ts, obj[0], Ints.of(ts, 7));
                    assertEquals(1, Lists.size(ts, obj[0]));
                    Ref.decref(ts, obj[0]);
                } catch (Throwable e) {
                    failure.set(e);
                    attached.countDown();
                }
            });
            attached.await();
            assertThrows(IllegalStateException.class, interp::destroy, "destroyed under an attached thread");
            assertThrows(IllegalStateException.class, interp::release);
            assertFalse(interp.isDestroyed());
            assertThrows(IllegalStateException.class, rt::close, "the runtime closed under an attached thread");
            release.countDown();
            other.join();
            assertNull(failure.get());
            DestroyReport report = interp.release().orElseThrow(); // the refused release left its reference
            assertEquals(0, report.leakedObjects(), report.toString());
        }
    }

    @Test
    void isolatedInterpretersKeepTheirObjectsToThemselves() {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter s = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState ta = a.newThreadState();
            long objA = Strs.of(ta, "in a");
            long listA = Lists.create(ta);
            ta.detach();
            ThreadState tb = b.newThreadState();
            long objB = Strs.of(tb, "in b");
            assertFalse(a.ownsMemory(objB));
            assertFalse(b.ownsMemory(objA));
            assertTrue(a.ownsMemory(objA) && b.ownsMemory(objB));
            for (Executable use : List.<Executable>of(() -> Strs.value(tb, objA), () -> Ref.incref(tb, objA),
                    () -> Ref.decref(tb, objA), () -> Ref.refcount(tb, objA), () -> Lists.append(tb, listA, objB),
                    () -> Lists.size(tb, listA), () -> Tuples.of(tb, objA))) {
                assertThrows(IllegalArgumentException.class, use);
            }
            tb.detach();
            ta.attach();
            assertThrows(IllegalArgumentException.class, () -> Lists.append(ta, listA, objB),
                    "an object of another interpreter went into a list");
            assertEquals(0, Lists.size(ta, listA));
            assertEquals(1, Ref.refcount(ta, objA), "a refused call changed a count");
            ta.detach();
            // a shared-allocator interpreter shares memory with main, but not objects
            ThreadState ts = s.newThreadState();
            long objS = Strs.of(ts, "in s");
            ts.detach();
            try (ThreadState tm = rt.mainInterpreter().newThreadState()) {
                assertThrows(IllegalArgumentException.class, () -> Strs.value(tm, objS));
                // interned strs and the other immortals are the runtime's: every interpreter sees them
                assertEquals("x", Strs.value(tm, Strs.intern(tm, "x")));
            }
            ts.attach();
            Ref.decref(ts, objS);
            ts.close();
            tb.attach();
            Ref.decref(tb, objB);
            tb.close();
            ta.attach();
            Ref.decref(ta, objA);
            Ref.decref(ta, listA);
            ta.close();
            for (Interpreter i : List.of(a, b, s)) {
                assertEquals(0, i.release().orElseThrow().leakedObjects());
            }
        }
    }

    // ---- thread states ----

    @Test
    void threadStatesReserveAnIndexReleasedAtCloseAndGetFreshIds() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState first = interp.newThreadState();
            int index = first.index();
            long id = first.id();
            int[] otherIndex = new int[1];
            onThread(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    otherIndex[0] = ts.index();
                    assertNotEquals(id, ts.id());
                    assertEquals(2, interp.threadCount());
                }
                return null;
            });
            assertNotEquals(index, otherIndex[0], "two live thread states share an index");
            first.close();
            assertEquals(0, interp.threadCount());
            ThreadState again = interp.newThreadState();
            assertTrue(again.index() == index || again.index() == otherIndex[0], "an index was not released");
            assertNotEquals(id, again.id(), "a thread id was reused");
            assertSame(again, rt.current());
            again.close();
            assertNull(rt.current());
            interp.release();
        }
    }

    /** Closing a thread state gives back what it took from its allocator: its heaps and its QSBR slot. */
    @Test
    void closingAThreadStateGivesBackItsHeapsAndItsQsbrSlot() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            Allocator allocator = interp.allocator;
            int heapsBefore = allocator.stats().heapsLive();
            int readersBefore = allocator.qsbr().stats().threadsRegistered();
            onThread(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    long list = Lists.create(ts); // a GC object: the GC heap as well as the object heap
                    for (int i = 0; i < 100; i++) { // growth retires item arrays with freeDelayed: QSBR
                        long v = Ints.of(ts, 1000 + i);
                        Lists.append(ts, list, v);
                        Ref.decref(ts, v);
                    }
                    assertTrue(allocator.stats().heapsLive() >= heapsBefore + 2, "an object heap and a GC heap");
                    assertTrue(allocator.qsbr().stats().threadsRegistered() > readersBefore, "a QSBR slot");
                    Ref.decref(ts, list);
                }
                // the thread is alive: what went back, close gave back (no reaper found it dead)
                assertEquals(heapsBefore, allocator.stats().heapsLive(), "heaps given back");
                assertEquals(readersBefore, allocator.qsbr().stats().threadsRegistered(), "QSBR slot given back");
                return null;
            });
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void attachDetachAndCheckpointFollowTheirRules() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.mainInterpreter();
            ThreadState ts = interp.newThreadState();
            assertTrue(ts.isAttached());
            assertThrows(IllegalStateException.class, interp::newThreadState, "two states in one interpreter");
            long s = Strs.of(ts, "s");
            ts.checkpoint();
            ts.detach();
            assertFalse(ts.isAttached());
            assertNull(rt.current());
            // a detached thread holds nothing: every object operation is refused
            for (Executable use : List.<Executable>of(() -> Strs.value(ts, s), () -> Ints.of(ts, 1000),
                    () -> Lists.create(ts), ts::checkpoint, ts::detach, () -> Gc.collect(ts))) {
                assertThrows(IllegalStateException.class, use);
            }
            ts.attach();
            assertEquals("s", Strs.value(ts, s));
            // another thread may ask, but not use
            assertEquals(Boolean.TRUE, onThread(ts::isAttached));
            for (Callable<Object> use : List.<Callable<Object>>of(() -> {
                ts.checkpoint();
                return null;
            }, () -> {
                ts.detach();
                return null;
            }, () -> {
                ts.close();
                return null;
            }, () -> Strs.value(ts, s), () -> Ints.of(ts, 5000))) {
                assertThrows(WrongThreadException.class, () -> onThread(use));
            }
            assertTrue(ts.isAttached());
            Ref.decref(ts, s);
            ts.close();
            ts.close();
            assertThrows(IllegalStateException.class, ts::attach);
            assertThrows(IllegalStateException.class, ts::checkpoint);
            assertThrows(IllegalStateException.class, () -> Ints.of(ts, 1000));
        }
    }

    @Test
    void aThreadHasOneAttachedThreadStateAcrossInterpreters() {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            ThreadState ta = a.newThreadState();
            assertThrows(IllegalStateException.class, b::newThreadState);
            ta.detach();
            ThreadState tb = b.newThreadState();
            assertThrows(IllegalStateException.class, ta::attach, "two attached at once");
            assertFalse(ta.isAttached());
            tb.detach();
            ta.attach();
            assertSame(ta, rt.current());
            ta.close();
            tb.attach();
            tb.close();
            a.release();
            b.release();
        }
    }

    // ---- objects ----

    @Test
    void intsAndFloatsRoundTripAndSmallIntsAreImmortal() {
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            for (long v : new long[] {Long.MIN_VALUE, Long.MAX_VALUE, -6, 257, 0, -5, 256, 1L << 40}) {
                long o = Ints.of(ts, v);
                assertEquals(v, Ints.value(ts, o));
                assertEquals("int", Types.typeName(ts, o));
                boolean small = v >= -5 && v <= 256;
                assertEquals(small, Ref.isImmortal(ts, o), Long.toString(v));
                assertEquals(small ? -1 : 1, Ref.refcount(ts, o));
                if (small) {
                    assertEquals(o, Ints.of(ts, v), "small ints are one object each");
                }
                Ref.decref(ts, o);
            }
            for (double v : new double[] {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.MIN_VALUE,
                    -Double.MAX_VALUE, 1.5}) {
                long o = Floats.of(ts, v);
                assertEquals(Double.doubleToRawLongBits(v), Double.doubleToRawLongBits(Floats.value(ts, o)));
                assertEquals("float", Types.typeName(ts, o));
                Ref.decref(ts, o);
            }
        }
    }

    @Test
    void strsHoldUtf8IncludingNonAsciiAndRefuseLoneSurrogates() {
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            for (String v : List.of("", "a", "héllo wörld", "日本語テキスト", "😀 emoji \uD83D\uDE80", "nul\0inside",
                    "e\u0301 combining", "x".repeat(100_000))) {
                long o = Strs.of(ts, v);
                assertEquals(v, Strs.value(ts, o));
                assertEquals(v.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, Strs.length(ts, o));
                Ref.decref(ts, o);
            }
            long before = rt.mainInterpreter().objectsAllocated();
            for (String bad : List.of("\uD800", "a\uDC00b", "\uDE00\uD83D", "ok\uD83D")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Strs.of(ts, bad));
                assertTrue(e.getMessage().contains("surrogate"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> Strs.intern(ts, bad));
            }
            assertEquals(before, rt.mainInterpreter().objectsAllocated(), "a refused str made an object");
            assertThrows(NullPointerException.class, () -> Strs.of(ts, null));
            long i1 = Strs.intern(ts, "interned ü");
            assertEquals(i1, Strs.intern(ts, "interned ü"));
            assertTrue(Ref.isImmortal(ts, i1));
            assertNotEquals(i1, Strs.of(ts, "interned ü"), "of() returned the immortal");
        }
    }

    @Test
    void bytesAreCopiedInAndOut() {
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            byte[] all = new byte[256];
            for (int i = 0; i < 256; i++) {
                all[i] = (byte) i;
            }
            long o = Bytes.of(ts, all);
            all[0] = 42;
            byte[] out = Bytes.value(ts, o);
            assertEquals(0, out[0], "the object shares the caller's array");
            out[1] = 42;
            assertEquals(1, Bytes.value(ts, o)[1]);
            assertEquals(256, Bytes.length(ts, o));
            assertEquals("bytes", Types.typeName(ts, o));
            assertThrows(IllegalArgumentException.class, () -> Strs.value(ts, o), "bytes read as str");
            long empty = Bytes.of(ts, new byte[0]);
            assertArrayEquals(new byte[0], Bytes.value(ts, empty));
            Ref.decref(ts, o);
            Ref.decref(ts, empty);
        }
    }

    @Test
    void tuplesHoldTheirOwnReferences() {
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            long a = Strs.of(ts, "a");
            long b = Floats.of(ts, 2.5);
            long t = Tuples.of(ts, a, b, rt.none(), a);
            assertEquals(3, Ref.refcount(ts, a));
            assertEquals(4, Tuples.size(ts, t));
            long got = Tuples.get(ts, t, 3);
            assertEquals(a, got);
            Ref.decref(ts, got);
            assertThrows(IndexOutOfBoundsException.class, () -> Tuples.get(ts, t, 4));
            assertThrows(IndexOutOfBoundsException.class, () -> Tuples.get(ts, t, -1));
            long empty = Tuples.of(ts);
            assertEquals(0, Tuples.size(ts, empty));
            long freedBefore = rt.mainInterpreter().objectsFreed();
            Ref.decref(ts, a);
            Ref.decref(ts, b);
            Ref.decref(ts, t);
            assertEquals(freedBefore + 3, rt.mainInterpreter().objectsFreed(), "the tuple and its two items");
            assertFalse(Ref.isObject(ts, a));
            Ref.decref(ts, empty);
        }
    }

    @Test
    void listsAppendGetSetPopWithExactCounts() {
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            long list = Lists.create(ts);
            long[] items = new long[100];
            for (int i = 0; i < items.length; i++) {
                items[i] = Ints.of(ts, 1000 + i);
                Lists.append(ts, list, items[i]);
                assertEquals(2, Ref.refcount(ts, items[i]));
            }
            assertEquals(100, Lists.size(ts, list));
            for (int i = 0; i < items.length; i++) {
                long got = Lists.get(ts, list, i);
                assertEquals(1000 + i, Ints.value(ts, got));
                Ref.decref(ts, got);
            }
            assertThrows(IndexOutOfBoundsException.class, () -> Lists.get(ts, list, 100));
            assertThrows(IndexOutOfBoundsException.class, () -> Lists.get(ts, list, -1));
            assertThrows(IndexOutOfBoundsException.class, () -> Lists.set(ts, list, 100, items[0]));
            assertEquals(2, Ref.refcount(ts, items[0]), "a refused set kept a reference");
            long x = Strs.of(ts, "replacement");
            Lists.set(ts, list, 5, x);
            assertEquals(2, Ref.refcount(ts, x));
            ts.checkpoint(); // the replaced item's reference is dropped after a grace period
            for (int i = 0; i < 5 && Ref.refcount(ts, items[5]) != 1; i++) {
                ts.checkpoint();
            }
            Gc.collect(ts); // no reader can be inside the list: whatever is delayed runs
            assertEquals(1, Ref.refcount(ts, items[5]));
            long popped = Lists.pop(ts, list);
            assertEquals(items[99], popped);
            Gc.collect(ts);
            assertEquals(2, Ref.refcount(ts, popped), "the caller's and the creator's");
            assertEquals(99, Lists.size(ts, list));
            assertThrows(IllegalArgumentException.class, () -> Lists.append(ts, list, 0));
            assertThrows(IllegalArgumentException.class, () -> Lists.append(ts, list, list + 8));
            assertEquals(99, Lists.size(ts, list));
            Ref.decref(ts, popped);
            long freed = rt.mainInterpreter().objectsFreed();
            Ref.decref(ts, list);
            assertEquals(freed + 1, rt.mainInterpreter().objectsFreed(), "only the list: its items are still held");
            for (long item : items) {
                Ref.decref(ts, item);
            }
            Ref.decref(ts, x);
            long empty = Lists.create(ts);
            assertThrows(IndexOutOfBoundsException.class, () -> Lists.pop(ts, empty));
            Ref.decref(ts, empty);
        }
    }

    /**
     * A replaced list item, a removed dict value and a popped item are dropped "later": at checkpoints once no
     * reader can hold them. In an interpreter where nothing else happens, checkpoints alone must get there; the
     * goal of a lone delayed decref was never advanced to, so they never did (only a collection freed them).
     */
    @Test
    void droppedReferencesAreReleasedAtLaterCheckpointsEvenWhenNothingElseHappens() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            // a reader that reaches checkpoints all the time: it never holds the drop back for long
            Thread reader = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    attached.countDown();
                    while (!stop.get()) {
                        ts.checkpoint();
                    }
                }
                done.countDown();
            });
            attached.await();
            try (ThreadState ts = interp.newThreadState()) {
                long list = Lists.create(ts);
                long dict = Dicts.create(ts);
                long old = Ints.of(ts, 1_000_001);
                long removed = Ints.of(ts, 1_000_002);
                long key = Strs.of(ts, "key");
                Lists.append(ts, list, old);
                Dicts.put(ts, dict, key, removed);
                Ref.decref(ts, old);
                Ref.decref(ts, removed);
                long freed = interp.objectsFreed();
                Lists.set(ts, list, 0, rt.none());
                assertTrue(Dicts.remove(ts, dict, key));
                for (int i = 0; i < 100_000 && interp.objectsFreed() != freed + 2; i++) {
                    ts.checkpoint();
                }
                assertEquals(freed + 2, interp.objectsFreed(), "dropped references never released at checkpoints");
                assertFalse(Ref.isObject(ts, old));
                assertFalse(Ref.isObject(ts, removed));
                Ref.decref(ts, key);
                Ref.decref(ts, list);
                Ref.decref(ts, dict);
            } finally {
                stop.set(true);
                done.await();
            }
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    /**
     * A thread that drops references from a shared list and closes at once hands its delayed decrefs to the
     * interpreter. They were released only by the next collection or the destruction: threads that come and go
     * without anyone collecting piled them up without bound. The checkpoints of the threads still there release
     * them once due.
     */
    @Test
    void referencesDroppedByAThreadThatClosedAreReleasedAtOtherThreadsCheckpoints() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState ts = interp.newThreadState()) {
                long list = Lists.create(ts);
                for (int i = 0; i < 10; i++) {
                    long v = Ints.of(ts, 1_000_000 + i);
                    Lists.append(ts, list, v);
                    Ref.decref(ts, v);
                }
                long freed = interp.objectsFreed();
                ts.detach();
                Thread shortLived = Thread.ofPlatform().start(() -> {
                    try (ThreadState mine = interp.newThreadState()) {
                        for (int i = 0; i < 10; i++) {
                            Lists.set(mine, list, i, rt.none());
                        }
                    } // closes with the ten drops still delayed: this thread (detached) lags behind their goals
                });
                shortLived.join();
                ts.attach();
                for (int i = 0; i < 100_000 && interp.objectsFreed() != freed + 10; i++) {
                    ts.checkpoint();
                }
                assertEquals(freed + 10, interp.objectsFreed(), "a closed thread's drops waited for a collection");
                Ref.decref(ts, list);
            }
            assertEquals(0, interp.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void dictsWithIntAndStrKeysThroughGrowthRemovalAndReinsertion() {
        long seed = System.nanoTime();
        System.out.println("dictsWithIntAndStrKeys seed " + seed);
        Random random = new Random(seed);
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            long dict = Dicts.create(ts);
            Map<Object, Long> model = new HashMap<>();
            for (int step = 0; step < 20_000; step++) {
                Object key = random.nextBoolean() ? (Object) (long) (random.nextInt(600) - 300)
                        : (Object) ("k" + random.nextInt(600));
                long k = key instanceof Long l ? Ints.of(ts, l) : Strs.of(ts, (String) key);
                int op = random.nextInt(3);
                if (op == 0) {
                    long v = Ints.of(ts, step + 1_000_000L);
                    Dicts.put(ts, dict, k, v);
                    Ref.decref(ts, v);
                    model.put(key, step + 1_000_000L);
                } else if (op == 1) {
                    assertEquals(model.remove(key) != null, Dicts.remove(ts, dict, k), "remove " + key);
                } else {
                    long v = Dicts.get(ts, dict, k);
                    Long expected = model.get(key);
                    assertEquals(expected == null ? 0 : 1, v == 0 ? 0 : 1, "get " + key + " seed " + seed);
                    if (v != 0) {
                        assertEquals((long) expected, Ints.value(ts, v));
                        Ref.decref(ts, v);
                    }
                }
                Ref.decref(ts, k);
                assertEquals(model.size(), Dicts.size(ts, dict));
                if (step % 1000 == 0) {
                    ts.checkpoint();
                }
            }
            // str "1" and int 1 are different keys
            long one = Ints.of(ts, 1);
            long oneStr = Strs.of(ts, "1");
            Dicts.put(ts, dict, one, rt.bool(true));
            Dicts.put(ts, dict, oneStr, rt.bool(false));
            assertEquals(rt.bool(true), Dicts.get(ts, dict, one));
            assertEquals(rt.bool(false), Dicts.get(ts, dict, oneStr));
            // only str and int keys
            long f = Floats.of(ts, 1.0);
            long l = Lists.create(ts);
            long size = Dicts.size(ts, dict);
            for (long badKey : new long[] {f, l, rt.none(), dict}) {
                assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, dict, badKey, one));
                assertThrows(IllegalArgumentException.class, () -> Dicts.get(ts, dict, badKey));
                assertThrows(IllegalArgumentException.class, () -> Dicts.remove(ts, dict, badKey));
            }
            assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, dict, oneStr, 0), "0 as a value");
            assertEquals(size, Dicts.size(ts, dict));
            Ref.decref(ts, oneStr);
            Ref.decref(ts, f);
            Ref.decref(ts, l);
            long freedBefore = rt.mainInterpreter().objectsFreed();
            long allocatedBefore = rt.mainInterpreter().objectsAllocated();
            Ref.decref(ts, dict);
            Gc.collect(ts);
            // everything the dict held dies with it: allocated == freed for this interpreter
            assertEquals(rt.mainInterpreter().objectsAllocated(), rt.mainInterpreter().objectsFreed(),
                    "objects outlived their dict (allocated " + allocatedBefore + ", freed " + freedBefore + ")");
        }
    }

    @Test
    void dictKeysThatCollideInTheTableStayDistinct() {
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            long dict = Dicts.create(ts);
            // many int keys spaced by a large power of two, plus strs: whatever the hash, the table's low bits
            // collide for some of them, and linear probing must keep them apart through removals
            int n = 2000;
            for (int i = 0; i < n; i++) {
                long k = Ints.of(ts, (long) i << 32);
                long s = Strs.of(ts, "key" + i);
                long v = Ints.of(ts, i);
                Dicts.put(ts, dict, k, v);
                Dicts.put(ts, dict, s, v);
                Ref.decref(ts, k);
                Ref.decref(ts, s);
                Ref.decref(ts, v);
            }
            for (int i = 0; i < n; i += 2) {
                long k = Ints.of(ts, (long) i << 32);
                assertTrue(Dicts.remove(ts, dict, k));
                assertFalse(Dicts.remove(ts, dict, k));
                Ref.decref(ts, k);
            }
            assertEquals(n + n / 2, Dicts.size(ts, dict));
            for (int i = 0; i < n; i++) {
                long k = Ints.of(ts, (long) i << 32);
                long s = Strs.of(ts, "key" + i);
                long v = Dicts.get(ts, dict, k);
                assertEquals(i % 2 == 0, v == 0, "int key " + i);
                Ref.xdecref(ts, v);
                long vs = Dicts.get(ts, dict, s);
                assertEquals(i, Ints.value(ts, vs));
                Ref.decref(ts, vs);
                Ref.decref(ts, k);
                Ref.decref(ts, s);
            }
            Ref.decref(ts, dict);
            Gc.collect(ts);
            assertEquals(rt.mainInterpreter().objectsAllocated(), rt.mainInterpreter().objectsFreed());
        }
    }

    @Test
    void typesStaticAndHeap() {
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            long i = Ints.of(ts, 12345);
            long intType = Types.typeOf(ts, i);
            assertEquals("int", Types.name(ts, intType));
            assertTrue(Ref.isImmortal(ts, intType), "static types are immortal");
            long typeType = Types.typeOf(ts, intType);
            assertEquals(typeType, Types.typeOf(ts, typeType), "type is its own type");
            assertEquals("type", Types.name(ts, typeType));
            assertThrows(IllegalArgumentException.class, () -> Types.name(ts, i), "an int is not a type");
            for (long o : new long[] {rt.none(), rt.bool(true), rt.bool(false)}) {
                assertTrue(Ref.isImmortal(ts, o));
            }
            assertNotEquals(rt.bool(true), rt.bool(false));
            long point = Types.newHeapType(ts, "Point", 2);
            assertEquals("Point", Types.name(ts, point));
            assertFalse(Ref.isImmortal(ts, point), "heap types are not immortal");
            long p = Instances.create(ts, point);
            assertEquals("Point", Types.typeName(ts, p));
            assertEquals(point, Types.typeOf(ts, p));
            assertEquals(0, Instances.get(ts, p, 0));
            Instances.set(ts, p, 1, i);
            long got = Instances.get(ts, p, 1);
            assertEquals(i, got);
            Ref.decref(ts, got);
            assertThrows(IndexOutOfBoundsException.class, () -> Instances.get(ts, p, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> Instances.set(ts, p, -1, i));
            assertThrows(IllegalArgumentException.class, () -> Instances.create(ts, intType), "static type");
            assertThrows(IllegalArgumentException.class, () -> Types.newHeapType(ts, "Bad", -1));
            assertThrows(IllegalArgumentException.class, () -> Types.newHeapType(ts, "\uD800", 1));
            Ref.decref(ts, p);
            Ref.decref(ts, point);
            Ref.decref(ts, i);
            Gc.collect(ts); // heap types die in the collector once every count is merged
            assertEquals(rt.mainInterpreter().objectsAllocated(), rt.mainInterpreter().objectsFreed(),
                    "a heap type with no reference left survived a collection");
        }
    }

    @Test
    void immortalsAreNeverCountedNorFreed() {
        try (Runtime rt = Runtime.create(); ThreadState ts = rt.mainInterpreter().newThreadState()) {
            long[] immortals = {rt.none(), rt.bool(true), rt.bool(false), Ints.of(ts, 7), Ints.of(ts, -5),
                Ints.of(ts, 256), Strs.intern(ts, "const"), Types.typeOf(ts, rt.none())};
            long freed = rt.mainInterpreter().objectsFreed();
            for (long o : immortals) {
                for (int k = 0; k < 10_000; k++) {
                    Ref.decref(ts, o);
                }
                Ref.incref(ts, o);
                assertEquals(-1, Ref.refcount(ts, o));
                assertTrue(Ref.isObject(ts, o));
                assertEquals(0, Ref.ownerId(ts, o));
            }
            assertEquals(freed, rt.mainInterpreter().objectsFreed());
            assertEquals("const", Strs.value(ts, immortals[6]));
        }
    }

    // ---- bad addresses (checked mode, the default) ----

    @Test
    void badAddressesGetAClearExceptionFromEveryApiAndNeverCrash() throws Exception {
        try (Runtime rt = Runtime.create(); Allocator elsewhere = Allocator.create()) {
            ThreadState ts = rt.mainInterpreter().newThreadState();
            long live = Strs.of(ts, "live object with some payload to point into");
            long list = Lists.create(ts);
            long dict = Dicts.create(ts);
            long dead = Floats.of(ts, 1.0);
            Ref.decref(ts, dead);
            long foreignBlock = elsewhere.malloc(64);
            long[] bad = {0, 1, 7, 8, 16, -8, Long.MIN_VALUE, Long.MAX_VALUE & ~7L, 0x7fff_ffff_f000L, live + 8,
                live + 16, live + 48, dead, foreignBlock, list + 40, dict + 8};
            long listCount = Ref.refcount(ts, list);
            for (long b : bad) {
                String at = "0x" + Long.toHexString(b);
                List<Executable> uses = List.of(() -> Ref.incref(ts, b), () -> Ref.decref(ts, b),
                        () -> Ref.refcount(ts, b), () -> Ref.isImmortal(ts, b), () -> Ref.ownerId(ts, b),
                        () -> Lists.get(ts, b, 0), () -> Lists.size(ts, b), () -> Lists.append(ts, b, live),
                        () -> Lists.append(ts, list, b), () -> Lists.set(ts, b, 0, live), () -> Lists.pop(ts, b),
                        () -> Dicts.get(ts, b, live), () -> Dicts.get(ts, dict, b), () -> Dicts.put(ts, b, live, live),
                        () -> Dicts.put(ts, dict, live, b), () -> Dicts.put(ts, dict, b, live),
                        () -> Dicts.remove(ts, dict, b), () -> Strs.value(ts, b), () -> Ints.value(ts, b),
                        () -> Floats.value(ts, b), () -> Bytes.value(ts, b), () -> Tuples.get(ts, b, 0),
                        () -> Tuples.of(ts, live, b), () -> Types.typeOf(ts, b), () -> Types.typeName(ts, b),
                        () -> Instances.create(ts, b), () -> Instances.get(ts, b, 0));
                for (Executable use : uses) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, use, at);
                    assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), at);
                }
                assertFalse(Ref.isObject(ts, b), at);
            }
            assertEquals(listCount, Ref.refcount(ts, list), "a refused call changed a count");
            assertEquals(0, Lists.size(ts, list));
            assertEquals(0, Dicts.size(ts, dict));
            assertEquals(1, Ref.refcount(ts, live));
            // the wrong kind is refused as well, and changes nothing
            assertThrows(IllegalArgumentException.class, () -> Lists.append(ts, dict, live));
            assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, list, live, live));
            assertThrows(IllegalArgumentException.class, () -> Ints.value(ts, live));
            assertEquals(1, Ref.refcount(ts, live));
            elsewhere.free(foreignBlock);
            Ref.decref(ts, live);
            Ref.decref(ts, list);
            Ref.decref(ts, dict);
            ts.close();
        }
    }
}
