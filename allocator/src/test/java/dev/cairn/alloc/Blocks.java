package dev.cairn.alloc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Test helper: fills blocks with a pattern derived from a seed and checks it, so overlapping blocks are caught. */
final class Blocks {

    private Blocks() {
    }

    @SuppressWarnings("restricted")
    static MemorySegment view(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    static void fill(long address, long size, long seed) {
        MemorySegment block = view(address, size);
        for (long i = 0; i < size; i++) {
            block.set(ValueLayout.JAVA_BYTE, i, patternByte(seed, i));
        }
    }

    static void check(long address, long size, long seed) {
        MemorySegment block = view(address, size);
        for (long i = 0; i < size; i++) {
            byte actual = block.get(ValueLayout.JAVA_BYTE, i);
            if (actual != patternByte(seed, i)) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + " of " + size + " bytes: byte " + i
                        + " is " + actual + ", expected " + patternByte(seed, i) + " (overlap or corruption)");
            }
        }
    }

    private static byte patternByte(long seed, long i) {
        long x = seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L;
        return (byte) (x ^ (x >>> 29));
    }
}
