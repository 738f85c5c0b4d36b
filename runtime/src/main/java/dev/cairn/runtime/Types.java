package dev.cairn.runtime;

import dev.cairn.alloc.Allocator;
import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;

/**
 * Type objects. Static types (one per built-in kind) are runtime-wide immortals; heap types are made at run time,
 * hold a name and a slot count for their instances, and are counted per thread ({@link TypeRefcounts}) under a
 * type id from their interpreter's {@link TypeIds}. A heap type dies only in the GC, once every thread's count has
 * been merged and the total is zero.
 *
 * <pre>
 * type payload: 40 int kind of its instances | 44 int type id (-1 static) | 48 long name (str) | 56 long slots
 * </pre>
 */
public final class Types {

    static final long TYPE_KIND = ObjectLayout.HEADER_SIZE;
    static final long TYPE_ID = TYPE_KIND + 4;
    static final long TYPE_NAME = TYPE_KIND + 8;
    static final long TYPE_NSLOTS = TYPE_KIND + 16;
    static final long TYPE_PAYLOAD = 24;

    private Types() {
    }

    /** A static type: immortal, in the main allocator; {@code typeType} 0 means "itself" (the type of types). */
    static long createStatic(Allocator main, long typeType, int kind) {
        long t = Objs.createImmortal(main, typeType, TYPE_PAYLOAD);
        if (typeType == 0) {
            Raw.putLong(t + ObjectLayout.OB_TYPE, t);
        }
        Raw.putInt(t + TYPE_KIND, kind);
        Raw.putInt(t + TYPE_ID, -1);
        Raw.putLong(t + TYPE_NAME, 0);
        Raw.putLong(t + TYPE_NSLOTS, 0);
        return t;
    }

    static void setName(long type, long str) {
        Raw.putLong(type + TYPE_NAME, str);
    }

    /**
     * A new heap type whose instances ({@link Instances#create}) have {@code slots} object slots. The caller owns
     * one reference, counted in its thread's array.
     */
    public static long newHeapType(ThreadState ts, String name, int slots) {
        ts.checkUsable();
        if (slots < 0 || slots > 1 << 16) {
            throw new IllegalArgumentException("slots must be 0..65536: " + slots);
        }
        long nameStr = Strs.of(ts, name);
        long t = Objs.create(ts, ts.interp.runtime.builtins.typeType, TYPE_PAYLOAD, false);
        // per-thread counted: no owner, merged, count 0 in the shared word; the reference lives in ts's array
        Raw.putLong(t + ObjectLayout.OB_TID, 0);
        Raw.putInt(t + ObjectLayout.OB_REF_LOCAL, 0);
        Raw.putLong(t + ObjectLayout.OB_REF_SHARED, ObjectLayout.SHARED_MERGED);
        Raw.putShort(t + ObjectLayout.OB_FLAGS,
                (short) (ObjectLayout.KIND_OBJECT | ObjectLayout.FLAG_PER_THREAD_RC));
        Raw.putInt(t + TYPE_KIND, Kinds.INSTANCE);
        Raw.putLong(t + TYPE_NAME, nameStr);
        Raw.putLong(t + TYPE_NSLOTS, slots);
        int id = ts.interp.typeIds.reserve(t);
        Raw.putInt(t + TYPE_ID, id);
        ts.typeRefcounts.add(t, 1);
        return t;
    }

    /** The type of {@code obj} (a borrowed reference: types outlive their instances). */
    public static long typeOf(ThreadState ts, long obj) {
        Objs.check(ts, obj);
        return ObjectLayout.type(obj);
    }

    /** The name of {@code obj}'s type. */
    public static String typeName(ThreadState ts, long obj) {
        Objs.check(ts, obj);
        return nameOf(obj);
    }

    /** The name of a type object. */
    public static String name(ThreadState ts, long type) {
        Objs.checkKind(ts, type, Kinds.TYPE);
        return typeNameRaw(type);
    }

    static String nameOf(long obj) {
        return typeNameRaw(ObjectLayout.type(obj));
    }

    static String typeNameRaw(long type) {
        long name = Raw.getLong(type + TYPE_NAME);
        return name == 0 ? Kinds.name(Raw.getInt(type + TYPE_KIND)) : Strs.javaString(name);
    }

    static boolean isHeapType(long type) {
        return (ObjectLayout.flags(type) & ObjectLayout.FLAG_PER_THREAD_RC) != 0;
    }

    /** A heap type's dealloc, run by the GC once its merged count is zero: gives back its id and its name. */
    static void deallocHeapType(ThreadState ts, long type) {
        if (!isHeapType(type)) {
            throw new IllegalStateException("static type reached zero: 0x" + Long.toHexString(type));
        }
        ts.interp.typeIds.release(Raw.getInt(type + TYPE_ID));
        BiasedRc.decref(ts, Raw.getLong(type + TYPE_NAME));
    }
}
