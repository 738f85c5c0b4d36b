package dev.cairn.runtime;

import dev.cairn.segments.raw.Raw;


/** Immutable byte strings: {@link Strs}'s layout under the bytes type. */
public final class Bytes {

    private Bytes() {
    }

    public static long of(ThreadState ts, byte[] value) {
        ts.checkUsable();
        return Strs.create(ts, ts.interp.runtime.builtins.bytesType, value.clone());
    }

    public static byte[] value(ThreadState ts, long obj) {
        Objs.checkKind(ts, obj, Kinds.BYTES);
        return Strs.bytes(obj);
    }

    public static long length(ThreadState ts, long obj) {
        Objs.checkKind(ts, obj, Kinds.BYTES);
        return Raw.getLong(obj + Strs.LENGTH);
    }
}
