package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;

/** 64-bit floats. Payload: 40 double value. */
public final class Floats {

    static final long VALUE = ObjectLayout.HEADER_SIZE;

    private Floats() {
    }

    public static long of(ThreadState ts, double value) {
        ts.checkUsable();
        long obj = Objs.create(ts, ts.interp.runtime.builtins.floatType, 8, false);
        Raw.putDouble(obj + VALUE, value);
        return obj;
    }

    public static double value(ThreadState ts, long obj) {
        Objs.checkKind(ts, obj, Kinds.FLOAT);
        return Raw.getDouble(obj + VALUE);
    }
}
