package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import java.nio.charset.StandardCharsets;

/**
 * Immutable UTF-8 strings (and, through {@link Bytes}, byte strings: the same layout under another type). Payload:
 * 40 long length (bytes), 48 long hash, 56 data. {@link #intern} gives runtime-wide immortal strings.
 */
public final class Strs {

    static final long LENGTH = ObjectLayout.HEADER_SIZE;
    static final long HASH = LENGTH + 8;
    static final long DATA = LENGTH + 16;

    private Strs() {
    }

    /** A new reference to a new str holding {@code value}. */
    /**
     * A new reference to a new str holding {@code value}.
     *
     * @throws IllegalArgumentException if {@code value} holds a lone surrogate (no UTF-8 encoding)
     */
    public static long of(ThreadState ts, String value) {
        ts.checkUsable();
        return create(ts, ts.interp.runtime.builtins.strType, utf8(value));
    }

    /**
     * The runtime-wide immortal str for {@code value} (the same address for equal values, in every interpreter).
     *
     * @throws IllegalArgumentException if {@code value} holds a lone surrogate (no UTF-8 encoding)
     */
    public static long intern(ThreadState ts, String value) {
        ts.checkUsable();
        utf8(value);
        return ts.interp.runtime.builtins.intern(value);
    }

    /**
     * The UTF-8 encoding of {@code value}, refusing lone surrogates: {@code getBytes} would write '?' for them, and
     * two different Java strings would become equal strs (one dict key).
     */
    static byte[] utf8(String value) {
        for (int i = 0, n = value.length(); i < n; i++) {
            char c = value.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                    continue;
                }
                throw new IllegalArgumentException(String.format("lone surrogate U+%04X at index %d of a %d-char "
                        + "string: a str holds UTF-8, which cannot encode it", (int) c, i, n));
            }
        }
        return value.getBytes(StandardCharsets.UTF_8);
    }

    public static String value(ThreadState ts, long obj) {
        Objs.checkKind(ts, obj, Kinds.STR);
        return javaString(obj);
    }

    public static long length(ThreadState ts, long obj) {
        Objs.checkKind(ts, obj, Kinds.STR);
        return Raw.getLong(obj + LENGTH);
    }

    static long create(ThreadState ts, long type, byte[] data) {
        long obj = Objs.create(ts, type, 16 + data.length, false);
        fill(obj, data);
        return obj;
    }

    static void fill(long obj, byte[] data) {
        Raw.putLong(obj + LENGTH, data.length);
        Raw.putLong(obj + HASH, hash(data));
        Raw.copyIn(data, obj + DATA);
    }

    static String javaString(long obj) {
        return new String(bytes(obj), StandardCharsets.UTF_8);
    }

    static byte[] bytes(long obj) {
        return Raw.copyOut(obj + DATA, Math.toIntExact(Raw.getLong(obj + LENGTH)));
    }

    static long hashRaw(long obj) {
        return Raw.getLong(obj + HASH);
    }

    /** Same type (checked by the caller), same length, same bytes. */
    static boolean equalRaw(long a, long b) {
        long len = Raw.getLong(a + LENGTH);
        return a == b || len == Raw.getLong(b + LENGTH) && Raw.getLong(a + HASH) == Raw.getLong(b + HASH)
                && Raw.equalBytes(a + DATA, b + DATA, len);
    }

    /** FNV-1a, 64-bit. */
    static long hash(byte[] data) {
        long h = 0xcbf29ce484222325L;
        for (byte b : data) {
            h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return h;
    }
}
