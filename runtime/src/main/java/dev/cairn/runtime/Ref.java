package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;

/**
 * Reference counting on object addresses ({@link BiasedRc} does the work). With a checked allocator (the default)
 * {@code incref}/{@code decref} prove their argument a live object of the interpreter first, as every typed API
 * does, so a bad address is an {@link IllegalArgumentException} and never a write into memory that is not an
 * object. With an unchecked allocator they trust it, as {@code Py_INCREF} does, and stay a few instructions (then
 * they check only with assertions enabled, {@code -ea}). The runtime's own paths count through {@link BiasedRc}
 * directly: the objects they hold are proven already.
 */
public final class Ref {

    private Ref() {
    }

    public static void incref(ThreadState ts, long obj) {
        if (ts.checked) {
            Objs.check(ts, obj);
        }
        assert checked(ts, obj);
        BiasedRc.incref(ts, obj);
    }

    public static void decref(ThreadState ts, long obj) {
        if (ts.checked) {
            Objs.check(ts, obj);
        }
        assert checked(ts, obj);
        BiasedRc.decref(ts, obj);
    }

    /** {@code decref} that accepts 0 (no object). */
    public static void xdecref(ThreadState ts, long obj) {
        if (obj != 0) {
            decref(ts, obj);
        }
    }

    /**
     * The object's true count, local plus shared (a snapshot; exact when no other thread changes it). Objects
     * queued to their owner count the queued reference as already dropped. Heap types report only their merged
     * count. Immortals report -1.
     */
    public static long refcount(ThreadState ts, long obj) {
        Objs.check(ts, obj);
        long n = BiasedRc.refcount(obj);
        return n >= 0 && BiasedRc.isQueued(obj) ? n - 1 : n;
    }

    /** Immortal from its creation (runtime immortals) or since its count overflowed (2^32 - 1 owner references). */
    public static boolean isImmortal(ThreadState ts, long obj) {
        Objs.check(ts, obj);
        return (ObjectLayout.flags(obj) & ObjectLayout.FLAG_IMMORTAL) != 0
                || Raw.getInt(obj + ObjectLayout.OB_REF_LOCAL) == ObjectLayout.IMMORTAL_LOCAL;
    }

    /** The id of the thread state the object is biased to, 0 when merged, immortal or per-thread counted. */
    public static long ownerId(ThreadState ts, long obj) {
        Objs.check(ts, obj);
        return Raw.getLongVolatile(obj + ObjectLayout.OB_TID);
    }

    /** Whether {@code obj} is a live object of {@code ts}'s interpreter or a runtime immortal. */
    public static boolean isObject(ThreadState ts, long obj) {
        try {
            Objs.check(ts, obj);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean checked(ThreadState ts, long obj) {
        Objs.check(ts, obj);
        return true;
    }
}
