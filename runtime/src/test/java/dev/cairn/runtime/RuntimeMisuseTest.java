package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Misuse gets a clear exception, not a crash or a silent corruption. */
class RuntimeMisuseTest {

    @Test
    void threadStatesAreConfinedAndSingleAttached() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState ts = a.newThreadState();
            assertThrows(IllegalStateException.class, ts::attach, "already attached");
            Interpreter b = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            assertThrows(IllegalStateException.class, b::newThreadState, "one attached thread state per thread");
            Throwable[] seen = new Throwable[1];
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    Ints.of(ts, 100_000);
                } catch (Throwable e) {
                    seen[0] = e;
                }
            });
            other.join();
            assertTrue(seen[0] instanceof WrongThreadException, String.valueOf(seen[0]));
            assertThrows(IllegalStateException.class, a::startTheWorld, "not stopped");
            assertThrows(IllegalStateException.class, rt::startTheWorld, "not stopped");
            ts.detach();
            assertThrows(IllegalStateException.class, ts::detach, "already detached");
            try (ThreadState inB = b.newThreadState()) {
                assertEquals(inB, rt.current());
            }
            ts.attach();
            ts.close();
            ts.close(); // idempotent
            assertThrows(IllegalStateException.class, () -> Ints.of(ts, 1), "closed");
            a.release();
            b.release();
        }
    }

    @Test
    void addressesInsideASegmentThatAreNotObjectsAreRefusedWithoutReadingThem() {
        try (Runtime rt = Runtime.create()) {
            try (ThreadState ts = rt.mainInterpreter().newThreadState()) {
                long obj = Strs.of(ts, "a live object");
                long segment = obj & -(32L << 20); // the default segment size
                // interior pointers, and addresses in parts of the segment no page was ever formatted (and possibly
                // never committed) in: reading the object magic there used to crash the JVM
                for (long bad : new long[] {obj + 8, obj + 16, segment + (30L << 20), segment + (16L << 20) + 64,
                        segment + (32L << 20) - 8}) {
                    assertFalse(Ref.isObject(ts, bad), Long.toHexString(bad));
                    assertThrows(IllegalArgumentException.class, () -> Ref.refcount(ts, bad));
                    assertThrows(IllegalArgumentException.class, () -> Strs.value(ts, bad));
                }
                assertEquals("a live object", Strs.value(ts, obj));
                Ref.decref(ts, obj);
                assertFalse(Ref.isObject(ts, obj), "freed");
            }
        }
    }

    @Test
    void aRefusedRuntimeCloseDestroysNothing() {
        Runtime rt = Runtime.create();
        Interpreter other = rt.newInterpreter(InterpreterConfig.sharedAllocator());
        ThreadState ts = rt.mainInterpreter().newThreadState();
        long kept = Strs.of(ts, "kept");
        assertThrows(IllegalStateException.class, rt::close, "a thread state is still attached");
        assertFalse(other.isDestroyed(), "the refusal came after destroying the other interpreters");
        assertEquals("kept", Strs.value(ts, kept));
        Ref.decref(ts, kept);
        ts.close();
        other.release();
        rt.close();
        assertThrows(IllegalStateException.class, rt::none, "its memory is gone");
        assertThrows(IllegalStateException.class, () -> rt.bool(true));
    }

    @Test
    void checkpointOnAnotherThreadOrAfterCloseIsRefused() throws Exception {
        try (Runtime rt = Runtime.create()) {
            ThreadState ts = rt.mainInterpreter().newThreadState();
            ts.checkpoint();
            Throwable[] seen = new Throwable[1];
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    ts.checkpoint(); // would report the owner's quiescent point for it
                } catch (Throwable e) {
                    seen[0] = e;
                }
            });
            other.join();
            assertTrue(seen[0] instanceof WrongThreadException, String.valueOf(seen[0]));
            ts.detach();
            assertThrows(IllegalStateException.class, ts::checkpoint, "detached");
            ts.attach();
            ts.close();
            assertThrows(IllegalStateException.class, ts::checkpoint, "closed");
        }
    }

    @Test
    void increfAndDecrefProveTheirArgumentWithACheckedAllocator() {
        try (Runtime rt = Runtime.create()) {
            try (ThreadState ts = rt.mainInterpreter().newThreadState()) {
                long obj = Strs.of(ts, "counted");
                long segment = obj & -(32L << 20); // the default segment size
                // each of these used to be read and written as an object header: a crash or a silent corruption
                for (long bad : new long[] {0, 0x1000, 12_345, obj + 8, segment + (30L << 20)}) {
                    assertThrows(IllegalArgumentException.class, () -> Ref.incref(ts, bad), Long.toHexString(bad));
                    assertThrows(IllegalArgumentException.class, () -> Ref.decref(ts, bad), Long.toHexString(bad));
                }
                assertEquals(1, Ref.refcount(ts, obj));
                Ref.incref(ts, obj);
                assertEquals(2, Ref.refcount(ts, obj));
                Ref.decref(ts, obj);
                Ref.decref(ts, obj); // the last reference: freed
                assertThrows(IllegalArgumentException.class, () -> Ref.decref(ts, obj), "decref after free");
                assertThrows(IllegalArgumentException.class, () -> Ref.incref(ts, obj), "incref after free");
                long next = Strs.of(ts, "still works");
                assertEquals("still works", Strs.value(ts, next));
                Ref.decref(ts, next);
            }
        }
    }

    @Test
    void objectsOfDestroyedInterpretersAndWrongKindsAreRefused() {
        try (Runtime rt = Runtime.create()) {
            Interpreter dying = rt.newInterpreter(InterpreterConfig.isolated());
            long obj;
            try (ThreadState ts = dying.newThreadState()) {
                obj = Strs.of(ts, "gone soon");
            }
            assertEquals(1, dying.release().orElseThrow().leakedObjects());
            try (ThreadState ts = rt.mainInterpreter().newThreadState()) {
                assertThrows(IllegalArgumentException.class, () -> Strs.value(ts, obj), "destroyed interpreter");
                assertFalse(Ref.isObject(ts, obj));
                long type = Types.typeOf(ts, Ints.of(ts, 1));
                assertThrows(IllegalArgumentException.class, () -> Instances.create(ts, type), "static type");
                assertThrows(IllegalArgumentException.class, () -> Types.newHeapType(ts, "T", -1));
                long list = Lists.create(ts);
                assertThrows(IllegalArgumentException.class, () -> Instances.create(ts, list), "not a type");
                assertThrows(IllegalArgumentException.class, () -> Dicts.get(ts, list, list), "not a dict");
                long dict = Dicts.create(ts);
                assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, dict, list, list), "unhashable");
                Ref.decref(ts, list);
                Ref.decref(ts, dict);
                assertThrows(IllegalArgumentException.class, () -> Lists.size(ts, list), "freed");
            }
        }
    }

    @Test
    void sharedDataClosedAfterTheRuntimeTouchesNoMemory() {
        Runtime rt = Runtime.create();
        CrossInterpreter.Shared shared;
        try (ThreadState ts = rt.mainInterpreter().newThreadState()) {
            long obj = Strs.of(ts, "outlives its runtime");
            shared = CrossInterpreter.share(ts, obj);
            Ref.decref(ts, obj);
        }
        rt.close();
        shared.close(); // used to write into the block after its memory was unmapped: a SIGSEGV
        shared.close(); // idempotent
        try (Runtime other = Runtime.create(); ThreadState ts = other.mainInterpreter().newThreadState()) {
            assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.unshare(ts, shared), "other runtime");
        }
    }
}
