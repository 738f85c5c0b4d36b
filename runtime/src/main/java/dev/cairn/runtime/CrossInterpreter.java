package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Cross-interpreter data (CPython's {@code _PyXIData}): an immutable value of one interpreter copied into memory
 * that belongs to no interpreter (a block of the runtime's main allocator, which outlives them all) and rebuilt as
 * a new object in another. Shareable: None, bool, int, float, str, bytes and tuples of shareable values;
 * mutable containers are refused, as they would need a reference into the source interpreter.
 *
 * <p>Encoding (big-endian, one tag byte per value): N none, T/F bool, I long, D double, S/B length + bytes,
 * U count + items; D is the float's 8 stored bytes (NaN payloads kept). The block is a buffer
 * ({@link ObjectLayout}) of kind {@code KIND_XIDATA}: {@code [0] long length}, the kind at 8, slot 0 at 12, the
 * encoding from 16.
 */
public final class CrossInterpreter {

    /**
     * How deep tuples may nest in a shared value. Both sides recurse once per level; without a bound a value could
     * be shared that no thread's stack can rebuild (StackOverflowError in {@link #unshare}, every time).
     */
    public static final int MAX_DEPTH = 512;

    private CrossInterpreter() {
    }

    /**
     * A copy of the value of {@code obj}, independent of {@code ts}'s interpreter.
     *
     * @throws IllegalArgumentException for a value that is not shareable, or tuples nested deeper than
     *                                  {@link #MAX_DEPTH}
     */
    public static Shared share(ThreadState ts, long obj) {
        Objs.check(ts, obj);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            encode(ts, obj, out, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] data = bytes.toByteArray();
        Runtime rt = ts.interp.runtime;
        long block = rt.mainAllocator.malloc(ObjectLayout.BUF_DATA + data.length);
        Raw.putLong(block + ObjectLayout.BUF_CAPACITY, data.length);
        // tagged, so that a walk of the main allocator never takes it for an object
        Raw.putShort(block + ObjectLayout.BUF_KIND, (short) ObjectLayout.KIND_XIDATA);
        Raw.putInt(block + ObjectLayout.BUF_INTERP, 0);
        Raw.copyIn(data, block + ObjectLayout.BUF_DATA);
        return new Shared(rt, ts.interp.id(), block);
    }

    /** A new object of {@code ts}'s interpreter equal to the shared value (the caller owns the reference). */
    public static long unshare(ThreadState ts, Shared shared) {
        ts.checkUsable();
        if (shared.runtime != ts.interp.runtime) {
            throw new IllegalArgumentException("shared data of another runtime");
        }
        byte[] data = shared.bytes();
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
            return decode(ts, in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void encode(ThreadState ts, long obj, DataOutputStream out, int depth) throws IOException {
        Builtins b = ts.interp.runtime.builtins;
        switch (Kinds.kindOf(obj)) {
            case Kinds.NONE -> out.writeByte('N');
            case Kinds.BOOL -> out.writeByte(obj == b.trueObj ? 'T' : 'F');
            case Kinds.INT -> {
                out.writeByte('I');
                out.writeLong(Ints.valueRaw(obj));
            }
            case Kinds.FLOAT -> {
                out.writeByte('D');
                // the stored bits: writeDouble would fold every NaN payload into the canonical NaN
                out.writeLong(Raw.getLong(obj + Floats.VALUE));
            }
            case Kinds.STR, Kinds.BYTES -> {
                byte[] data = Strs.bytes(obj);
                out.writeByte(Kinds.kindOf(obj) == Kinds.STR ? 'S' : 'B');
                out.writeInt(data.length);
                out.write(data);
            }
            case Kinds.TUPLE -> {
                if (depth == MAX_DEPTH) {
                    throw new IllegalArgumentException("tuples nested deeper than " + MAX_DEPTH
                            + " cannot be shared between interpreters");
                }
                long n = Raw.getLong(obj + Tuples.SIZE);
                out.writeByte('U');
                out.writeInt(Math.toIntExact(n));
                for (long i = 0; i < n; i++) {
                    encode(ts, Raw.getLong(obj + Tuples.ITEMS + 8 * i), out, depth + 1);
                }
            }
            default -> throw new IllegalArgumentException(Types.nameOf(obj) + " objects cannot be shared between "
                    + "interpreters (only None, bool, int, float, str, bytes and tuples of them)");
        }
    }

    private static long decode(ThreadState ts, DataInputStream in) throws IOException {
        Runtime rt = ts.interp.runtime;
        int tag = in.readUnsignedByte();
        return switch (tag) {
            case 'N' -> rt.none();
            case 'T' -> rt.bool(true);
            case 'F' -> rt.bool(false);
            case 'I' -> Ints.of(ts, in.readLong());
            case 'D' -> Floats.of(ts, Double.longBitsToDouble(in.readLong()));
            case 'S', 'B' -> {
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                yield Strs.create(ts, tag == 'S' ? rt.builtins.strType : rt.builtins.bytesType, data);
            }
            case 'U' -> {
                long[] items = new long[in.readInt()];
                for (int i = 0; i < items.length; i++) {
                    items[i] = decode(ts, in);
                }
                long tuple = Tuples.of(ts, items);
                for (long item : items) {
                    BiasedRc.decref(ts, item);
                }
                yield tuple;
            }
            default -> throw new IllegalStateException("corrupt shared data: tag " + tag);
        };
    }

    /**
     * A shared value: owned by no interpreter, usable from any thread, freed by {@link #close()} (idempotent).
     *
     * @see CrossInterpreter#share
     */
    public static final class Shared implements AutoCloseable {
        private final Runtime runtime;
        private final long sourceInterpreterId;
        /** The block in the main allocator; 0 once closed. Guarded by {@code this}. */
        private long block;

        Shared(Runtime runtime, long sourceInterpreterId, long block) {
            this.runtime = runtime;
            this.sourceInterpreterId = sourceInterpreterId;
            this.block = block;
        }

        /** The interpreter the value was copied from (ids are never reused). */
        public long sourceInterpreterId() {
            return sourceInterpreterId;
        }

        synchronized byte[] bytes() {
            if (block == 0) {
                throw new IllegalStateException("shared data already closed");
            }
            return Raw.copyOut(block + ObjectLayout.BUF_DATA, Math.toIntExact(Raw.getLong(block)));
        }

        @Override
        public synchronized void close() {
            // under the runtime's monitor, so that Runtime.close cannot unmap the block between the test and the write
            synchronized (runtime) {
                if (block != 0 && !runtime.isClosed()) { // once the runtime is closed, the block went with its memory
                    Raw.putShort(block + ObjectLayout.BUF_KIND, (short) 0);
                    runtime.mainAllocator.free(block);
                }
                block = 0;
            }
        }
    }
}
