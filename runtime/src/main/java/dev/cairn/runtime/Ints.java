package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;

/** 64-bit integers. Values -5..256 are runtime-wide immortals (CPython's small ints). Payload: 40 long value. */
public final class Ints {

    static final long VALUE = ObjectLayout.HEADER_SIZE;
    static final long SMALL_MIN = -5;
    static final long SMALL_MAX = 256;

    private Ints() {
    }

    /** A new reference to an int of {@code value}. */
    public static long of(ThreadState ts, long value) {
        ts.checkUsable();
        if (value >= SMALL_MIN && value <= SMALL_MAX) {
            return ts.interp.runtime.builtins.smallInt(value);
        }
        long obj = Objs.create(ts, ts.interp.runtime.builtins.intType, 8, false);
        Raw.putLong(obj + VALUE, value);
        return obj;
    }

    public static long value(ThreadState ts, long obj) {
        Objs.checkKind(ts, obj, Kinds.INT);
        return Raw.getLong(obj + VALUE);
    }

    static long valueRaw(long obj) {
        return Raw.getLong(obj + VALUE);
    }

    static long hash(long value) {
        long h = value * 0x9E3779B97F4A7C15L;
        return h ^ (h >>> 29);
    }
}
