package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Probes of the object APIs from one thread: bad addresses, type confusion, bounds, growth, edge values. */
class ObjectProbeTest {

    private Runtime rt;
    private Interpreter interp;
    private ThreadState ts;

    @BeforeEach
    void setUp() {
        rt = Runtime.create();
        interp = rt.newInterpreter(InterpreterConfig.isolated());
        ts = interp.newThreadState();
    }

    @AfterEach
    void tearDown() {
        ts.close();
        DestroyReport report = interp.release().orElseThrow();
        rt.close();
        assertEquals(0, report.leakedObjects(), () -> "leaked " + report.leakedByType());
    }

    @Test
    void badAddressesAreRefusedByEveryApi() {
        long list = Lists.create(ts);
        long str = Strs.of(ts, "s");
        long[] bad = {0, 1, 8, 16, -8, Long.MIN_VALUE, Long.MAX_VALUE & ~7L, 0xdeadbeef0L, list + 8, list + 16,
            list + 40, str + 48, 4096};
        for (long b : bad) {
            String at = "0x" + Long.toHexString(b);
            assertThrows(IllegalArgumentException.class, () -> Ref.incref(ts, b), at);
            assertThrows(IllegalArgumentException.class, () -> Ref.decref(ts, b), at);
            assertThrows(IllegalArgumentException.class, () -> Ref.refcount(ts, b), at);
            assertThrows(IllegalArgumentException.class, () -> Lists.size(ts, b), at);
            assertThrows(IllegalArgumentException.class, () -> Lists.get(ts, b, 0), at);
            assertThrows(IllegalArgumentException.class, () -> Lists.append(ts, list, b), at);
            assertThrows(IllegalArgumentException.class, () -> Strs.value(ts, b), at);
            assertThrows(IllegalArgumentException.class, () -> Tuples.of(ts, str, b), at);
            assertThrows(IllegalArgumentException.class, () -> Types.typeName(ts, b), at);
            assertThrows(IllegalArgumentException.class, () -> CrossInterpreter.share(ts, b), at);
            assertFalse(Ref.isObject(ts, b), at);
        }
        assertEquals(0, Lists.size(ts, list));
        assertEquals(1, Ref.refcount(ts, str));
        Ref.decref(ts, list);
        Ref.decref(ts, str);
    }

    @Test
    void typeConfusionIsRefusedAndChangesNothing() {
        long list = Lists.create(ts);
        long dict = Dicts.create(ts);
        long str = Strs.of(ts, "not a list");
        long tuple = Tuples.of(ts, str);
        long flt = Floats.of(ts, 1.5);
        long bytes = Bytes.of(ts, new byte[] {1});
        long big = Ints.of(ts, 1L << 40);
        for (long o : new long[] {dict, str, tuple, flt, bytes, big, rt.none(), rt.bool(true)}) {
            assertThrows(IllegalArgumentException.class, () -> Lists.append(ts, o, str));
            assertThrows(IllegalArgumentException.class, () -> Lists.size(ts, o));
            assertThrows(IllegalArgumentException.class, () -> Lists.pop(ts, o));
            assertThrows(IllegalArgumentException.class, () -> Lists.set(ts, o, 0, str));
        }
        for (long o : new long[] {list, str, tuple, flt, bytes, big}) {
            assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, o, str, str));
            assertThrows(IllegalArgumentException.class, () -> Dicts.get(ts, o, str));
            assertThrows(IllegalArgumentException.class, () -> Dicts.remove(ts, o, str));
        }
        assertThrows(IllegalArgumentException.class, () -> Strs.value(ts, bytes));
        assertThrows(IllegalArgumentException.class, () -> Bytes.value(ts, str));
        assertThrows(IllegalArgumentException.class, () -> Ints.value(ts, flt));
        assertThrows(IllegalArgumentException.class, () -> Ints.value(ts, rt.bool(true)));
        assertThrows(IllegalArgumentException.class, () -> Floats.value(ts, big));
        assertThrows(IllegalArgumentException.class, () -> Tuples.get(ts, list, 0));
        assertThrows(IllegalArgumentException.class, () -> Instances.get(ts, list, 0));
        assertThrows(IllegalArgumentException.class, () -> Instances.set(ts, tuple, 0, str));
        assertThrows(IllegalArgumentException.class, () -> Types.name(ts, str));
        // unhashable or unsupported keys: refused, dict untouched
        for (long k : new long[] {flt, bytes, tuple, list, dict, rt.none(), rt.bool(false)}) {
            assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, dict, k, str));
            assertThrows(IllegalArgumentException.class, () -> Dicts.get(ts, dict, k));
            assertThrows(IllegalArgumentException.class, () -> Dicts.remove(ts, dict, k));
        }
        assertEquals(0, Dicts.size(ts, dict));
        assertEquals(2, Ref.refcount(ts, str)); // its own and the tuple's: no refused call kept one
        assertEquals(1, Ref.refcount(ts, flt));
        for (long o : new long[] {list, dict, str, tuple, flt, bytes, big}) {
            Ref.decref(ts, o);
        }
    }

    @Test
    void useAfterFreeIsRefusedNotADoubleFree() {
        long s = Strs.of(ts, "once");
        long l = Lists.create(ts);
        long d = Dicts.create(ts);
        long t = Tuples.of(ts, s);
        Ref.decref(ts, t);
        Ref.decref(ts, s);
        Ref.decref(ts, l);
        Ref.decref(ts, d);
        for (long o : new long[] {s, l, d, t}) {
            assertThrows(IllegalArgumentException.class, () -> Ref.decref(ts, o));
            assertThrows(IllegalArgumentException.class, () -> Ref.incref(ts, o));
            assertThrows(IllegalArgumentException.class, () -> Ref.refcount(ts, o));
        }
        assertThrows(IllegalArgumentException.class, () -> Strs.value(ts, s));
        assertThrows(IllegalArgumentException.class, () -> Lists.append(ts, l, rt.none()));
        assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, d, Ints.of(ts, 1), rt.none()));
        assertThrows(IllegalArgumentException.class, () -> Tuples.get(ts, t, 0));
        assertEquals(interp.objectsAllocated(), interp.objectsFreed());
    }

    @Test
    void listBoundsAndRefcountsOnRefusal() {
        long list = Lists.create(ts);
        long item = Strs.of(ts, "x");
        assertThrows(IndexOutOfBoundsException.class, () -> Lists.get(ts, list, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Lists.pop(ts, list));
        assertThrows(IndexOutOfBoundsException.class, () -> Lists.set(ts, list, 0, item));
        for (int i = 0; i < 100; i++) {
            Lists.append(ts, list, item);
        }
        for (long i : new long[] {-1, 100, 101, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40}) {
            assertThrows(IndexOutOfBoundsException.class, () -> Lists.get(ts, list, i));
            assertThrows(IndexOutOfBoundsException.class, () -> Lists.set(ts, list, i, item));
        }
        assertEquals(101, Ref.refcount(ts, item));
        for (int i = 0; i < 100; i++) {
            long got = Lists.pop(ts, list);
            assertEquals(item, got);
            Ref.decref(ts, got);
        }
        assertEquals(0, Lists.size(ts, list));
        Gc.collect(ts); // runs the delayed decrefs
        assertEquals(1, Ref.refcount(ts, item));
        Ref.decref(ts, list);
        Ref.decref(ts, item);
    }

    @Test
    void tuplesEmptyAndLarge() {
        long empty = Tuples.of(ts);
        assertEquals(0, Tuples.size(ts, empty));
        assertThrows(IndexOutOfBoundsException.class, () -> Tuples.get(ts, empty, 0));
        long[] items = new long[200_000];
        long one = Ints.of(ts, 12345);
        java.util.Arrays.fill(items, one);
        long big = Tuples.of(ts, items);
        assertEquals(items.length, Tuples.size(ts, big));
        assertEquals(items.length + 1, Ref.refcount(ts, one));
        long got = Tuples.get(ts, big, items.length - 1);
        assertEquals(12345, Ints.value(ts, got));
        Ref.decref(ts, got);
        for (long i : new long[] {-1, items.length, Long.MIN_VALUE, Long.MAX_VALUE}) {
            assertThrows(IndexOutOfBoundsException.class, () -> Tuples.get(ts, big, i));
        }
        Ref.decref(ts, big);
        assertEquals(1, Ref.refcount(ts, one));
        Ref.decref(ts, one);
        Ref.decref(ts, empty);
        assertThrows(NullPointerException.class, () -> Tuples.of(ts, (long[]) null));
    }

    @Test
    void dictGrowthDeletesReinsertsAndCollisions() {
        long seed = System.nanoTime();
        System.out.println("ObjectProbeTest.dict seed=" + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        long dict = Dicts.create(ts);
        Map<Long, Long> model = new HashMap<>();
        int n = 20_000;
        long[] keyObjs = new long[n];
        for (int i = 0; i < n; i++) {
            // keys i << 20: the low bits collide before mixing; str keys that share a prefix
            keyObjs[i] = i % 2 == 0 ? Ints.of(ts, ((long) i + 1) << 20) : Strs.of(ts, "key-" + i);
        }
        for (int round = 0; round < 60_000; round++) {
            int k = rnd.nextInt(n);
            int op = rnd.nextInt(3);
            if (op < 2) {
                long v = Ints.of(ts, round + 1000);
                Dicts.put(ts, dict, keyObjs[k], v);
                Ref.decref(ts, v);
                model.put((long) k, (long) round + 1000);
            } else {
                assertEquals(model.remove((long) k) != null, Dicts.remove(ts, dict, keyObjs[k]));
            }
            if (round % 5000 == 0) {
                ts.checkpoint();
            }
        }
        assertEquals(model.size(), Dicts.size(ts, dict));
        for (int i = 0; i < n; i++) {
            // equal keys are separate objects: a fresh one finds the entry
            long probe = i % 2 == 0 ? Ints.of(ts, ((long) i + 1) << 20) : Strs.of(ts, "key-" + i);
            long v = Dicts.get(ts, dict, probe);
            Long want = model.get((long) i);
            if (want == null) {
                assertEquals(0, v, "key " + i);
            } else {
                assertEquals(want.longValue(), Ints.value(ts, v), "key " + i);
                Ref.decref(ts, v);
            }
            Ref.decref(ts, probe);
        }
        // an int key and a str key never match each other
        long one = Ints.of(ts, 1);
        long oneStr = Strs.of(ts, "1");
        Dicts.put(ts, dict, one, one);
        assertEquals(0, Dicts.get(ts, dict, oneStr));
        Ref.decref(ts, oneStr);
        Ref.decref(ts, dict);
        for (long k : keyObjs) {
            assertEquals(1, Ref.refcount(ts, k));
            Ref.decref(ts, k);
        }
        Gc.collect(ts);
    }

    @Test
    void strsAndBytesEdgeValues() {
        String nonBmp = "a\uD83D\uDE00b\uD834\uDD1Ec"; // 😀 and 𝄞
        long s = Strs.of(ts, nonBmp);
        assertEquals(nonBmp, Strs.value(ts, s));
        assertEquals(nonBmp.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, Strs.length(ts, s));
        long empty = Strs.of(ts, "");
        assertEquals("", Strs.value(ts, empty));
        // a lone surrogate has no UTF-8 encoding: refused (replaced by '?', "x\uD800y" and "x?y" were one str)
        assertThrows(IllegalArgumentException.class, () -> Strs.of(ts, "x\uD800y"));
        long lone = Strs.of(ts, "x?y");
        byte[] invalid = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, 0, (byte) 0x80};
        long b = Bytes.of(ts, invalid);
        assertArrayEquals(invalid, Bytes.value(ts, b));
        invalid[0] = 0; // Bytes.of copied
        assertEquals((byte) 0xC3, Bytes.value(ts, b)[0]);
        long big = Strs.of(ts, "z".repeat(3_000_000));
        assertEquals(3_000_000, Strs.length(ts, big));
        long d = Dicts.create(ts);
        Dicts.put(ts, d, s, big);
        long key2 = Strs.of(ts, nonBmp);
        long got = Dicts.get(ts, d, key2);
        assertEquals(big, got);
        Ref.decref(ts, got);
        assertTrue(Strs.intern(ts, nonBmp) == Strs.intern(ts, new String(nonBmp)));
        assertTrue(Ref.isImmortal(ts, Strs.intern(ts, nonBmp)));
        assertThrows(NullPointerException.class, () -> Strs.of(ts, null));
        for (long o : new long[] {s, empty, lone, b, big, d, key2}) {
            Ref.decref(ts, o);
        }
    }

    @Test
    void intAndFloatEdgeValues() {
        for (long v : new long[] {Long.MIN_VALUE, Long.MAX_VALUE, -6, -5, 0, 256, 257, -1}) {
            long o = Ints.of(ts, v);
            assertEquals(v, Ints.value(ts, o));
            assertEquals(v >= -5 && v <= 256, Ref.isImmortal(ts, o), "immortal " + v);
            Ref.decref(ts, o);
        }
        long d = Dicts.create(ts);
        long kMin = Ints.of(ts, Long.MIN_VALUE);
        long kMax = Ints.of(ts, Long.MAX_VALUE);
        Dicts.put(ts, d, kMin, kMax);
        Dicts.put(ts, d, kMax, kMin);
        long probe = Ints.of(ts, Long.MIN_VALUE);
        long got = Dicts.get(ts, d, probe);
        assertEquals(Long.MAX_VALUE, Ints.value(ts, got));
        Ref.decref(ts, got);
        for (double v : new double[] {Double.NaN, -0.0, 0.0, Double.POSITIVE_INFINITY, Double.MIN_VALUE}) {
            long o = Floats.of(ts, v);
            assertEquals(Double.doubleToRawLongBits(v), Double.doubleToRawLongBits(Floats.value(ts, o)));
            assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, d, o, o), "float keys");
            Ref.decref(ts, o);
        }
        assertEquals(2, Dicts.size(ts, d));
        for (long o : new long[] {d, kMin, kMax, probe}) {
            Ref.decref(ts, o);
        }
    }

    @Test
    void immortalsSurviveAnyNumberOfDecrefs() {
        long[] immortals = {rt.none(), rt.bool(true), rt.bool(false), Ints.of(ts, 7), Strs.intern(ts, "i"),
            Types.typeOf(ts, rt.none())};
        for (long o : immortals) {
            for (int i = 0; i < 10_000; i++) {
                Ref.decref(ts, o);
            }
            assertTrue(Ref.isImmortal(ts, o));
            assertEquals(-1, Ref.refcount(ts, o));
        }
        assertEquals(7, Ints.value(ts, immortals[3]));
        assertEquals("i", Strs.value(ts, immortals[4]));
        Thread other = new Thread(() -> {
            try (ThreadState t2 = interp.newThreadState()) {
                for (long o : immortals) {
                    for (int i = 0; i < 1000; i++) {
                        Ref.decref(t2, o);
                    }
                }
            }
        });
        other.start();
        ObjectsTest.join(other);
        assertEquals("i", Strs.value(ts, immortals[4]));
    }

    @Test
    void heapTypeWhoseLastInstanceDiesInACycleIsFreedAtDestruction() {
        // the probe for the heap-type count the collector's own thread drops while clearing garbage
        Runtime r = Runtime.create();
        try {
            Interpreter in = r.newInterpreter(InterpreterConfig.sharedAllocator());
            try (ThreadState t = in.newThreadState()) {
                long type = Types.newHeapType(t, "Node", 1);
                long a = Instances.create(t, type);
                long b = Instances.create(t, type);
                Instances.set(t, a, 0, b);
                Instances.set(t, b, 0, a);
                Ref.decref(t, a);
                Ref.decref(t, b);
                Ref.decref(t, type);
            }
            DestroyReport report = in.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), () -> "leaked " + report.leakedByType());
        } finally {
            r.close();
        }
    }

    @Test
    void heapTypeDiesInTheCollectionThatFreesItsLastInstances() {
        long type = Types.newHeapType(ts, "Node", 1);
        long a = Instances.create(ts, type);
        Instances.set(ts, a, 0, a);
        Ref.decref(ts, a);
        Ref.decref(ts, type);
        long freed = Gc.collect(ts);
        // the instance, the type and (owned by this thread, merged in the pause) the type's name
        assertFalse(Ref.isObject(ts, type), "type still alive after the collection freed its last instance");
        assertEquals(3, freed);
    }

    @Test
    void heapTypeAndInstanceBoundaries() {
        long none = Types.newHeapType(ts, "Empty", 0);
        long wide = Types.newHeapType(ts, "Wide", 1 << 16);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Types.newHeapType(ts, "TooWide", (1 << 16) + 1));
        assertEquals("Wide", Types.name(ts, wide));
        long e = Instances.create(ts, none);
        assertThrows(IndexOutOfBoundsException.class, () -> Instances.get(ts, e, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Instances.set(ts, e, 0, rt.none()));
        long w = Instances.create(ts, wide);
        assertEquals(wide, Types.typeOf(ts, w));
        assertEquals("Wide", Types.typeName(ts, w));
        for (int i : new int[] {-1, 1 << 16, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertThrows(IndexOutOfBoundsException.class, () -> Instances.get(ts, w, i));
            assertThrows(IndexOutOfBoundsException.class, () -> Instances.set(ts, w, i, rt.none()));
        }
        Instances.set(ts, w, (1 << 16) - 1, w); // a cycle through the last slot
        long got = Instances.get(ts, w, (1 << 16) - 1);
        assertEquals(w, got);
        Ref.decref(ts, got);
        assertThrows(IllegalArgumentException.class, () -> Instances.create(ts, e), "an instance is not a type");
        Ref.decref(ts, e);
        Ref.decref(ts, w);
        Ref.decref(ts, none);
        Ref.decref(ts, wide);
        // the wide instance (a cycle), both types and their names
        assertEquals(5, Gc.collect(ts));
        assertFalse(Ref.isObject(ts, wide));
    }
}
