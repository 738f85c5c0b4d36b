package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.raw.Raw;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ObjectsTest {

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
        interp.release();
        rt.close();
    }

    @Test
    void scalarsRoundTripAndDieAtZero() {
        long i = Ints.of(ts, 1_000_000);
        long f = Floats.of(ts, 2.5);
        long s = Strs.of(ts, "héllo");
        long b = Bytes.of(ts, new byte[] {1, 2, 3});
        assertEquals(1_000_000, Ints.value(ts, i));
        assertEquals(2.5, Floats.value(ts, f));
        assertEquals("héllo", Strs.value(ts, s));
        assertEquals(6, Strs.length(ts, s));
        assertArrayEquals(new byte[] {1, 2, 3}, Bytes.value(ts, b));
        assertEquals("int", Types.typeName(ts, i));
        assertEquals("str", Types.typeName(ts, s));
        assertEquals(1, Ref.refcount(ts, i));
        assertEquals(ts.id(), Ref.ownerId(ts, i));
        Ref.incref(ts, i);
        assertEquals(2, Ref.refcount(ts, i));
        long freed = interp.objectsFreed();
        for (long o : new long[] {i, i, f, s, b}) {
            Ref.decref(ts, o);
        }
        assertEquals(freed + 4, interp.objectsFreed());
        // a freed object is refused, not read
        assertThrows(IllegalArgumentException.class, () -> Ints.value(ts, i));
    }

    @Test
    void immortalsAreNeverCounted() {
        long small = Ints.of(ts, 7);
        assertEquals(small, Ints.of(ts, 7));
        assertTrue(Ref.isImmortal(ts, small));
        assertEquals(-1, Ref.refcount(ts, small));
        for (int k = 0; k < 10; k++) {
            Ref.decref(ts, small);
        }
        assertEquals(7, Ints.value(ts, small));
        assertTrue(Ref.isImmortal(ts, rt.none()));
        assertTrue(Ref.isImmortal(ts, rt.bool(true)));
        long a = Strs.intern(ts, "name");
        assertEquals(a, Strs.intern(ts, "name"));
        assertTrue(Ref.isImmortal(ts, a));
        assertEquals("type", Types.typeName(ts, Types.typeOf(ts, small)));
        assertTrue(Ref.isImmortal(ts, Types.typeOf(ts, small)));
        assertEquals(0, Ref.ownerId(ts, small));
    }

    @Test
    void containersHoldReferences() {
        long list = Lists.create(ts);
        long x = Ints.of(ts, 1000);
        for (int k = 0; k < 100; k++) {
            Lists.append(ts, list, x);
        }
        assertEquals(101, Ref.refcount(ts, x));
        assertEquals(100, Lists.size(ts, list));
        long got = Lists.get(ts, list, 57);
        assertEquals(x, got);
        Ref.decref(ts, got);
        long y = Strs.of(ts, "y");
        Lists.set(ts, list, 3, y);
        long popped = Lists.pop(ts, list);
        assertEquals(x, popped);
        Ref.decref(ts, popped);
        ts.checkpoint();

        long tuple = Tuples.of(ts, x, y, list);
        assertEquals(3, Tuples.size(ts, tuple));
        long t1 = Tuples.get(ts, tuple, 1);
        assertEquals("y", Strs.value(ts, t1));
        Ref.decref(ts, t1);

        long dict = Dicts.create(ts);
        long k1 = Strs.of(ts, "k1");
        Dicts.put(ts, dict, k1, x);
        Dicts.put(ts, dict, Ints.of(ts, 5), y);
        for (int k = 0; k < 200; k++) {
            long key = Ints.of(ts, 1000 + k);
            long v = Ints.of(ts, k);
            Dicts.put(ts, dict, key, v);
            Ref.decref(ts, key);
            Ref.decref(ts, v);
        }
        assertEquals(202, Dicts.size(ts, dict));
        long k1b = Strs.of(ts, "k1");
        long v1 = Dicts.get(ts, dict, k1b);
        assertEquals(x, v1);
        Ref.decref(ts, v1);
        assertTrue(Dicts.remove(ts, dict, k1b));
        assertFalse(Dicts.remove(ts, dict, k1b));
        assertEquals(0, Dicts.get(ts, dict, k1b));
        long key1100 = Ints.of(ts, 1100);
        long v100 = Dicts.get(ts, dict, key1100);
        assertEquals(100, Ints.value(ts, v100));
        for (long o : new long[] {v100, key1100, k1b, k1, dict, tuple, list, x, y}) {
            Ref.decref(ts, o);
        }
        long before = interp.objectsFreed();
        ts.checkpoint();
        Gc.collect(ts); // runs the delayed decrefs with the world stopped
        assertEquals(interp.objectsAllocated(), interp.objectsFreed(), "everything freed, freed before: " + before);
    }

    @Test
    void badInputIsRefused() {
        long i = Ints.of(ts, 12345);
        assertThrows(IllegalArgumentException.class, () -> Strs.value(ts, i));
        assertThrows(IllegalArgumentException.class, () -> Lists.append(ts, i, i));
        assertThrows(IllegalArgumentException.class, () -> Ints.value(ts, 0));
        assertThrows(IllegalArgumentException.class, () -> Ints.value(ts, i + 8));
        assertThrows(IllegalArgumentException.class, () -> Ints.value(ts, 0x1000));
        long dict = Dicts.create(ts);
        long f = Floats.of(ts, 1.0);
        assertThrows(IllegalArgumentException.class, () -> Dicts.put(ts, dict, f, i));
        long list = Lists.create(ts);
        assertThrows(IndexOutOfBoundsException.class, () -> Lists.get(ts, list, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Lists.pop(ts, list));
        // another interpreter's object
        Interpreter other = rt.newInterpreter(InterpreterConfig.sharedAllocator());
        long[] foreign = new long[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try (ThreadState ots = other.newThreadState()) {
                foreign[0] = Ints.of(ots, 99999);
            }
        });
        join(t);
        assertThrows(IllegalArgumentException.class, () -> Ints.value(ts, foreign[0]));
        for (long o : new long[] {i, dict, f, list}) {
            Ref.decref(ts, o);
        }
        DestroyReport r = other.release().orElseThrow();
        assertEquals(1, r.leakedObjects());
        assertEquals(1L, r.leakedByType().get("int"));
    }

    @Test
    void heapTypesCountPerThread() throws Exception {
        long type = Types.newHeapType(ts, "Point", 2);
        assertEquals("Point", Types.name(ts, type));
        long[] made = new long[2000];
        long sharedBefore = Raw.getLongVolatile(type + dev.cairn.runtime.internal.ObjectLayout.OB_REF_SHARED);
        Thread other = Thread.ofPlatform().start(() -> {
            try (ThreadState o = interp.newThreadState()) {
                for (int k = 0; k < 1000; k++) {
                    made[k] = Instances.create(o, type);
                }
            }
        });
        for (int k = 1000; k < 2000; k++) {
            made[k] = Instances.create(ts, type);
        }
        join(other); // the other thread's close merged its 1000 counts into the type
        assertEquals(sharedBefore + (1000L << 2), Raw.getLongVolatile(
                type + dev.cairn.runtime.internal.ObjectLayout.OB_REF_SHARED), "creation never wrote the type");
        assertEquals(1001, ts.typeRefcounts.get(Raw.getInt(type + Types.TYPE_ID)));
        long v = Ints.of(ts, 4242);
        Instances.set(ts, made[0], 1, v);
        long got = Instances.get(ts, made[0], 1);
        assertEquals(v, got);
        assertEquals(0, Instances.get(ts, made[0], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Instances.get(ts, made[0], 2));
        Ref.decref(ts, got);
        Ref.decref(ts, v);
        assertNotEquals(0, interp.typeIds.size());
        // the type's memory is not written by instance creation: its shared word only holds merged counts
        for (long m : made) {
            Ref.decref(ts, m);
        }
        Ref.decref(ts, type);
        long freed = Gc.collect(ts);
        assertTrue(freed >= 2, "type and its name die in the GC: " + freed);
        assertEquals(interp.objectsAllocated(), interp.objectsFreed());
    }

    static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
