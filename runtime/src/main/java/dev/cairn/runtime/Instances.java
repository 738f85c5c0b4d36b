package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import org.eclipse.collections.api.block.procedure.primitive.LongProcedure;

/**
 * Instances of heap types: a fixed number of object slots (0 = empty), GC-tracked. Each instance holds a reference
 * to its type, counted in the creating and the freeing thread's {@link TypeRefcounts}. Slots are read without locks
 * and written under the instance's mutex, with the old value dropped after a grace period, as {@link Lists} does.
 * Payload: 40 long slot count, 48 slots.
 */
public final class Instances {

    static final long NSLOTS = ObjectLayout.HEADER_SIZE;
    static final long SLOTS = NSLOTS + 8;

    private Instances() {
    }

    /** A new instance of the heap type {@code type}, every slot empty. */
    public static long create(ThreadState ts, long type) {
        Objs.checkKind(ts, type, Kinds.TYPE);
        if (!Types.isHeapType(type)) {
            throw new IllegalArgumentException("instances are made from heap types, not " + Types.typeNameRaw(type));
        }
        long n = Raw.getLong(type + Types.TYPE_NSLOTS);
        long obj = Objs.createEmpty(ts, type, 8 + 8 * n);
        Raw.putLong(obj + NSLOTS, n);
        BiasedRc.incref(ts, type);
        return obj;
    }

    /** A new reference to slot {@code i}'s object, or 0 if empty; lock-free. */
    public static long get(ThreadState ts, long obj, int i) {
        Objs.checkKind(ts, obj, Kinds.INSTANCE);
        long v = Raw.getLongAcquire(slot(obj, i));
        Debug.readWindow();
        if (v != 0) {
            BiasedRc.incref(ts, v);
        }
        return v;
    }

    /** Stores a new reference to {@code value} (0 empties the slot). */
    public static void set(ThreadState ts, long obj, int i, long value) {
        Objs.checkKind(ts, obj, Kinds.INSTANCE);
        long addr = slot(obj, i);
        if (value != 0) {
            Objs.check(ts, value);
            BiasedRc.incref(ts, value);
        }
        long old;
        Locks.lock(ts, obj);
        try {
            old = Raw.getLong(addr);
            Raw.putLongRelease(addr, value);
        } finally {
            Locks.unlock(obj);
        }
        if (old != 0) {
            ts.decrefDelayed(old);
        }
    }

    private static long slot(long obj, int i) {
        long n = Raw.getLong(obj + NSLOTS);
        if (i < 0 || i >= n) {
            throw new IndexOutOfBoundsException("slot " + i + " out of range 0.." + n);
        }
        return obj + SLOTS + 8L * i;
    }

    static void traverse(long obj, LongProcedure visit) {
        Objs.visitRefs(obj + SLOTS, Raw.getLong(obj + NSLOTS), visit);
    }

    static void clear(ThreadState ts, long obj) {
        Objs.clearRefs(ts, obj + SLOTS, Raw.getLong(obj + NSLOTS));
    }

    static void dealloc(ThreadState ts, long obj) {
        clear(ts, obj);
        BiasedRc.decref(ts, ObjectLayout.type(obj));
    }
}
