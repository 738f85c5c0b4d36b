package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Immutable values copied between two isolated interpreters; mutable ones refused. */
class CrossInterpreterTest {

    @Test
    void immutableValuesCrossByCopy() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            CrossInterpreter.Shared[] shared = new CrossInterpreter.Shared[1];
            Thread ta = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = a.newThreadState()) {
                    long s = Strs.of(ts, "héllo");
                    long i = Ints.of(ts, 1L << 40);
                    long f = Floats.of(ts, -0.25);
                    long by = Bytes.of(ts, new byte[] {9, 8, 7});
                    long inner = Tuples.of(ts, rt.none(), rt.bool(true), by);
                    long t = Tuples.of(ts, s, i, f, inner);
                    shared[0] = CrossInterpreter.share(ts, t);
                    long list = Lists.create(ts);
                    assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.share(ts, list));
                    long withList = Tuples.of(ts, i, list);
                    assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.share(ts, withList));
                    for (long o : new long[] {s, i, f, by, inner, t, list, withList}) {
                        Ref.decref(ts, o);
                    }
                }
            });
            ta.join();
            assertEquals(0, a.release().orElseThrow().leakedObjects(), "the source can go before the copy is used");
            try (ThreadState ts = b.newThreadState(); CrossInterpreter.Shared data = shared[0]) {
                assertEquals(a.id(), data.sourceInterpreterId());
                long t = CrossInterpreter.unshare(ts, data);
                assertTrue(b.ownsMemory(t));
                assertEquals(4, Tuples.size(ts, t));
                long s = Tuples.get(ts, t, 0);
                long i = Tuples.get(ts, t, 1);
                long f = Tuples.get(ts, t, 2);
                long inner = Tuples.get(ts, t, 3);
                assertEquals("héllo", Strs.value(ts, s));
                assertEquals(1L << 40, Ints.value(ts, i));
                assertEquals(-0.25, Floats.value(ts, f));
                long none = Tuples.get(ts, inner, 0);
                long yes = Tuples.get(ts, inner, 1);
                long by = Tuples.get(ts, inner, 2);
                assertEquals(rt.none(), none);
                assertEquals(rt.bool(true), yes);
                assertArrayEquals(new byte[] {9, 8, 7}, Bytes.value(ts, by));
                assertFalse(a.ownsMemory(by));
                for (long o : new long[] {s, i, f, inner, none, yes, by, t}) {
                    Ref.decref(ts, o);
                }
                data.close();
                assertThrows(IllegalStateException.class, () -> CrossInterpreter.unshare(ts, data));
            }
            assertEquals(0, b.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void whatIsSharedCanBeUnsharedHoweverDeepItsTuplesNest() {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            try (ThreadState ts = a.newThreadState()) {
                long deepest = nest(ts, CrossInterpreter.MAX_DEPTH);
                try (CrossInterpreter.Shared data = CrossInterpreter.share(ts, deepest)) {
                    Ref.decref(ts, CrossInterpreter.unshare(ts, data));
                }
                // 5000 levels used to be shared, and then every unshare overflowed the stack
                long tooDeep = nest(ts, 5000);
                long justTooDeep = nest(ts, CrossInterpreter.MAX_DEPTH + 1);
                for (long value : new long[] {tooDeep, justTooDeep}) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> CrossInterpreter.share(ts, value));
                    assertTrue(e.getMessage().contains("nested deeper than " + CrossInterpreter.MAX_DEPTH),
                            e.getMessage());
                }
                for (long o : new long[] {deepest, tooDeep, justTooDeep}) {
                    Ref.decref(ts, o);
                }
            }
            assertEquals(0, a.release().orElseThrow().leakedObjects());
        }
    }

    /** A tuple holding a tuple ... {@code levels} deep around an int; the caller owns it. */
    private static long nest(ThreadState ts, int levels) {
        long value = Ints.of(ts, 1000);
        for (int i = 0; i < levels; i++) {
            long outer = Tuples.of(ts, value);
            Ref.decref(ts, value);
            value = outer;
        }
        return value;
    }
}
