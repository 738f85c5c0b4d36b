package dev.cairn.segments.raw;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The only place in Cairn that reads, writes and compare-and-sets values at absolute addresses.
 *
 * <p>Every access goes through {@link #ALL}, one {@link MemorySegment} that spans the whole address space, so the
 * JIT sees a constant segment with a constant (global, always alive) scope and folds the bounds and liveness checks
 * down to an alignment test. Nothing here validates an address: callers prove an address is Cairn's before they pass
 * it in (the allocator's checked mode does this with the radix tree; the runtime passes only offsets inside blocks
 * its allocators gave it). A wrong address here crashes the JVM, which is why no other class may build raw views of
 * memory.
 *
 * <p>Naming: the access mode is part of every name. {@code get/put} are plain (no ordering), {@code getAcquire/
 * putRelease} order like C11 acquire/release, {@code getVolatile/putVolatile} are sequentially consistent, {@code cas}
 * and {@code getAndAdd/getAndSet} are full read-modify-write operations. Plain accesses take any address (x86-64
 * and AArch64 load and store unaligned words; Cairn's own layouts keep them aligned anyway). Ordered and atomic
 * accesses need natural alignment: a misaligned address throws {@link IllegalArgumentException} from the FFM layer
 * before memory is touched. The one exception is {@link #casByte}, which FFM lacks and which is built on the CAS of
 * the aligned int around the byte.
 *
 * <p>Why plain accesses go straight to the layout {@code VarHandle}s of unaligned layouts: every FFM access
 * expands into many IR nodes before C2 simplifies it, and C2 stops inlining a compilation unit at a fixed node
 * budget ({@code NodeCountInliningCutoff}). Skipping {@code MemorySegment.get}'s extra level and the alignment check
 * keeps the allocator's malloc and free paths (about twenty accesses each) under that budget; with the checked
 * variants C2 left accesses in the free path as calls (see docs/benchmarks.md).
 */
@SuppressWarnings("restricted") // the one sanctioned use of reinterpret in Cairn
public final class Raw {

    /** A segment over the whole address space; base 0, so an offset is an absolute address. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    // Layout var handles take (MemorySegment, long baseOffset): the offset coordinate is the absolute address.
    // Atomic and ordered modes use the aligned layouts (atomic access needs alignment); plain ones the unaligned.
    private static final VarHandle LONG_HANDLE = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle PLAIN_LONG = LONG.varHandle();
    private static final VarHandle PLAIN_INT = INT.varHandle();
    private static final VarHandle PLAIN_SHORT = SHORT.varHandle();
    private static final VarHandle INT_HANDLE = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle PLAIN_DOUBLE = DOUBLE.varHandle();
    private static final VarHandle BYTE_HANDLE = BYTE.varHandle();

    private Raw() {
    }

    // ---- plain ----

    public static long getLong(long address) {
        return (long) PLAIN_LONG.get(ALL, address);
    }

    public static void putLong(long address, long value) {
        PLAIN_LONG.set(ALL, address, value);
    }

    public static int getInt(long address) {
        return (int) PLAIN_INT.get(ALL, address);
    }

    public static void putInt(long address, int value) {
        PLAIN_INT.set(ALL, address, value);
    }

    public static short getShort(long address) {
        return (short) PLAIN_SHORT.get(ALL, address);
    }

    public static void putShort(long address, short value) {
        PLAIN_SHORT.set(ALL, address, value);
    }

    public static byte getByte(long address) {
        return (byte) BYTE_HANDLE.get(ALL, address);
    }

    public static void putByte(long address, byte value) {
        BYTE_HANDLE.set(ALL, address, value);
    }

    public static double getDouble(long address) {
        return (double) PLAIN_DOUBLE.get(ALL, address);
    }

    public static void putDouble(long address, double value) {
        PLAIN_DOUBLE.set(ALL, address, value);
    }

    // ---- ordered longs ----

    public static long getLongAcquire(long address) {
        return (long) LONG_HANDLE.getAcquire(ALL, address);
    }

    public static void putLongRelease(long address, long value) {
        LONG_HANDLE.setRelease(ALL, address, value);
    }

    public static long getLongVolatile(long address) {
        return (long) LONG_HANDLE.getVolatile(ALL, address);
    }

    public static void putLongVolatile(long address, long value) {
        LONG_HANDLE.setVolatile(ALL, address, value);
    }

    public static boolean casLong(long address, long expected, long update) {
        return LONG_HANDLE.compareAndSet(ALL, address, expected, update);
    }

    public static long getAndSetLong(long address, long value) {
        return (long) LONG_HANDLE.getAndSet(ALL, address, value);
    }

    public static long getAndAddLong(long address, long delta) {
        return (long) LONG_HANDLE.getAndAdd(ALL, address, delta);
    }

    public static long getAndBitwiseOrLong(long address, long bits) {
        return (long) LONG_HANDLE.getAndBitwiseOr(ALL, address, bits);
    }

    public static long getAndBitwiseAndLong(long address, long bits) {
        return (long) LONG_HANDLE.getAndBitwiseAnd(ALL, address, bits);
    }

    // ---- ordered ints ----

    public static int getIntAcquire(long address) {
        return (int) INT_HANDLE.getAcquire(ALL, address);
    }

    public static void putIntRelease(long address, int value) {
        INT_HANDLE.setRelease(ALL, address, value);
    }

    public static int getIntVolatile(long address) {
        return (int) INT_HANDLE.getVolatile(ALL, address);
    }

    public static boolean casInt(long address, int expected, int update) {
        return INT_HANDLE.compareAndSet(ALL, address, expected, update);
    }

    public static int getAndAddInt(long address, int delta) {
        return (int) INT_HANDLE.getAndAdd(ALL, address, delta);
    }

    // ---- ordered bytes ----

    public static byte getByteVolatile(long address) {
        return (byte) BYTE_HANDLE.getVolatile(ALL, address);
    }

    public static void putByteVolatile(long address, byte value) {
        BYTE_HANDLE.setVolatile(ALL, address, value);
    }

    /**
     * CAS on one byte. FFM has no byte-wide atomic update, so this CASes the aligned int that holds the byte
     * (little-endian), retrying while only the other three bytes change. Callers keep those three bytes free of
     * concurrent plain writes, which the retry cannot see and would overwrite.
     */
    public static boolean casByte(long address, byte expected, byte update) {
        long word = address & ~3L;
        int shift = (int) (address - word) * 8;
        int mask = 0xFF << shift;
        while (true) {
            int current = (int) INT_HANDLE.getVolatile(ALL, word);
            if ((byte) (current >>> shift) != expected) {
                return false;
            }
            int next = (current & ~mask) | ((update & 0xFF) << shift);
            if (INT_HANDLE.compareAndSet(ALL, word, current, next)) {
                return true;
            }
        }
    }

    // ---- bulk ----

    /** Copies {@code length} bytes; the ranges may overlap (memmove semantics). */
    public static void copy(long fromAddress, long toAddress, long length) {
        MemorySegment.copy(ALL, fromAddress, ALL, toAddress, length);
    }

    /** Copies all of {@code from} to memory at {@code toAddress}. */
    public static void copyIn(byte[] from, long toAddress) {
        MemorySegment.copy(from, 0, ALL, BYTE, toAddress, from.length);
    }

    /** A new heap array holding the {@code length} bytes at {@code fromAddress}. */
    public static byte[] copyOut(long fromAddress, int length) {
        byte[] out = new byte[length];
        MemorySegment.copy(ALL, BYTE, fromAddress, out, 0, length);
        return out;
    }

    /** Whether the {@code length} bytes at {@code a} equal those at {@code b}. */
    public static boolean equalBytes(long a, long b, long length) {
        return MemorySegment.mismatch(ALL, a, a + length, ALL, b, b + length) == -1;
    }

    /** Sets {@code length} bytes starting at {@code address} to {@code value}. */
    public static void fill(long address, long length, byte value) {
        ALL.asSlice(address, length).fill(value);
    }

    /**
     * A segment view of {@code [address, address + length)} with the global scope. The caller owns the lifetime:
     * the view must not be used after the memory is released.
     */
    public static MemorySegment segment(long address, long length) {
        return ALL.asSlice(address, length);
    }

    /**
     * A segment view of {@code [address, address + length)} that lives as long as {@code scope}'s arena: closing
     * that arena makes the view inaccessible (this is how Cairn's own arenas hand out segments).
     */
    public static MemorySegment segment(long address, long length, Arena scope) {
        return MemorySegment.ofAddress(address).reinterpret(length, scope, null);
    }
}
