package dev.cairn.runtime.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The runtime's only raw-memory access point: absolute-address reads, writes and atomics over one
 * {@link MemorySegment} that spans the address space. Every address passed here is one the runtime got from its
 * interpreter's allocator (an object or a buffer block) plus an offset inside that block; nothing else in the
 * runtime reinterprets memory. Names carry the access mode: plain {@code get/put}, {@code getAcquire/putRelease},
 * {@code getVolatile/putVolatile}, {@code cas}, {@code getAndAdd} (volatile).
 *
 * <p>Alignment: longs at 8-byte, ints at 4-byte, shorts at 2-byte aligned addresses (blocks are 16-byte aligned and
 * every layout keeps its fields aligned), so the atomic modes are legal.
 */
public final class Mem {

    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();
    private static final VarHandle DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.varHandle();
    /** Plain accesses use the unaligned layouts: same code on x86/ARM64, one alignment check fewer for C2. */
    private static final VarHandle PLAIN_LONG = ValueLayout.JAVA_LONG_UNALIGNED.varHandle();
    private static final VarHandle PLAIN_INT = ValueLayout.JAVA_INT_UNALIGNED.varHandle();
    private static final VarHandle PLAIN_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.varHandle();

    private Mem() {
    }

    public static long getLong(long addr) {
        return (long) PLAIN_LONG.get(ALL, addr);
    }

    public static void putLong(long addr, long value) {
        PLAIN_LONG.set(ALL, addr, value);
    }

    public static long getLongAcquire(long addr) {
        return (long) LONG.getAcquire(ALL, addr);
    }

    public static void putLongRelease(long addr, long value) {
        LONG.setRelease(ALL, addr, value);
    }

    public static long getLongVolatile(long addr) {
        return (long) LONG.getVolatile(ALL, addr);
    }

    public static void putLongVolatile(long addr, long value) {
        LONG.setVolatile(ALL, addr, value);
    }

    public static boolean casLong(long addr, long expected, long value) {
        return LONG.compareAndSet(ALL, addr, expected, value);
    }

    public static long getAndAddLong(long addr, long delta) {
        return (long) LONG.getAndAdd(ALL, addr, delta);
    }

    public static int getInt(long addr) {
        return (int) PLAIN_INT.get(ALL, addr);
    }

    public static void putInt(long addr, int value) {
        PLAIN_INT.set(ALL, addr, value);
    }

    public static int getIntVolatile(long addr) {
        return (int) INT.getVolatile(ALL, addr);
    }

    public static short getShort(long addr) {
        return (short) PLAIN_SHORT.get(ALL, addr);
    }

    public static void putShort(long addr, short value) {
        PLAIN_SHORT.set(ALL, addr, value);
    }

    public static byte getByteVolatile(long addr) {
        return (byte) BYTE.getVolatile(ALL, addr);
    }

    public static byte getByte(long addr) {
        return (byte) BYTE.get(ALL, addr);
    }

    public static void putByte(long addr, byte value) {
        BYTE.set(ALL, addr, value);
    }

    public static void putByteVolatile(long addr, byte value) {
        BYTE.setVolatile(ALL, addr, value);
    }

    /**
     * CAS on one byte. FFM has no byte-wide atomic update, so this CASes the aligned 4-byte word that holds it
     * (little-endian), retrying while only the other three bytes change. Callers keep the other bytes of that word
     * free of concurrent plain writes (see ObjectLayout: flags are written at creation, GC bits with the world
     * stopped).
     */
    public static boolean casByte(long addr, byte expected, byte value) {
        long word = addr & ~3L;
        int shift = (int) (addr - word) * 8;
        int mask = 0xFF << shift;
        while (true) {
            int w = (int) INT.getVolatile(ALL, word);
            if ((byte) (w >>> shift) != expected) {
                return false;
            }
            int next = (w & ~mask) | ((value & 0xFF) << shift);
            if (INT.compareAndSet(ALL, word, w, next)) {
                return true;
            }
        }
    }

    public static double getDouble(long addr) {
        return (double) DOUBLE.get(ALL, addr);
    }

    public static void putDouble(long addr, double value) {
        DOUBLE.set(ALL, addr, value);
    }

    /** Copies {@code bytes} from the heap array into memory at {@code addr}. */
    public static void copyIn(byte[] src, long addr) {
        MemorySegment.copy(src, 0, ALL, ValueLayout.JAVA_BYTE, addr, src.length);
    }

    /** A new heap array holding {@code length} bytes from {@code addr}. */
    public static byte[] copyOut(long addr, int length) {
        byte[] out = new byte[length];
        MemorySegment.copy(ALL, ValueLayout.JAVA_BYTE, addr, out, 0, length);
        return out;
    }

    /** Copies {@code bytes} bytes between two blocks (non-overlapping). */
    public static void copy(long srcAddr, long dstAddr, long bytes) {
        MemorySegment.copy(ALL, srcAddr, ALL, dstAddr, bytes);
    }

    /** Whether {@code length} bytes at two addresses are equal. */
    public static boolean equalBytes(long a, long b, long length) {
        return MemorySegment.mismatch(ALL, a, a + length, ALL, b, b + length) == -1;
    }

    /** Whether {@code length} bytes at {@code addr} equal {@code bytes}. */
    public static boolean equalBytes(long addr, byte[] bytes) {
        return MemorySegment.mismatch(ALL, addr, addr + bytes.length, MemorySegment.ofArray(bytes), 0,
                bytes.length) == -1;
    }
}
