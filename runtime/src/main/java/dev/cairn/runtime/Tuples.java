package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import org.eclipse.collections.api.block.procedure.primitive.LongProcedure;

/** Immutable fixed-size sequences; GC-tracked. Payload: 40 long n, 48 items (object addresses, owned references). */
public final class Tuples {

    static final long SIZE = ObjectLayout.HEADER_SIZE;
    static final long ITEMS = SIZE + 8;

    private Tuples() {
    }

    /** A new tuple holding new references to {@code items}. */
    public static long of(ThreadState ts, long... items) {
        ts.checkUsable();
        for (long item : items) {
            Objs.check(ts, item);
        }
        long obj = Objs.create(ts, ts.interp.runtime.builtins.tupleType, 8 + 8L * items.length, true);
        Raw.putLong(obj + SIZE, items.length);
        for (int i = 0; i < items.length; i++) {
            BiasedRc.incref(ts, items[i]);
            Raw.putLong(obj + ITEMS + 8L * i, items[i]);
        }
        return obj;
    }

    public static long size(ThreadState ts, long tuple) {
        Objs.checkKind(ts, tuple, Kinds.TUPLE);
        return Raw.getLong(tuple + SIZE);
    }

    /** A new reference to item {@code i}. */
    public static long get(ThreadState ts, long tuple, long i) {
        Objs.checkKind(ts, tuple, Kinds.TUPLE);
        long n = Raw.getLong(tuple + SIZE);
        if (i < 0 || i >= n) {
            throw new IndexOutOfBoundsException("tuple index " + i + " out of range 0.." + n);
        }
        long item = Raw.getLong(tuple + ITEMS + 8 * i);
        if (item == 0) {
            throw new IllegalStateException("tuple was cleared by the GC");
        }
        BiasedRc.incref(ts, item);
        return item;
    }

    static void traverse(long tuple, LongProcedure visit) {
        Objs.visitRefs(tuple + ITEMS, Raw.getLong(tuple + SIZE), visit);
    }

    static void clear(ThreadState ts, long tuple) {
        Objs.clearRefs(ts, tuple + ITEMS, Raw.getLong(tuple + SIZE));
    }

    static void dealloc(ThreadState ts, long tuple) {
        clear(ts, tuple);
    }
}
