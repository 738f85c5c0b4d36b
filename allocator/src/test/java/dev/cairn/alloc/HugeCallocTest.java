package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.internal.Inspect;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * A huge {@code calloc} of memory that reads as zeros already (fresh from the OS, or purged with
 * {@code MADV_DONTNEED}) does not write it, so it stays out of RAM until used; memory that may hold old contents (a
 * segment once exposed as a {@code MemorySegment}, which a stale segment may have written) is zeroed as before.
 */
class HugeCallocTest {

    private static final long SIZE = 64L << 20;

    private static void assertZero(long address, long size) {
        MemorySegment block = MemorySegment.ofAddress(address).reinterpret(size);
        for (long offset = 0; offset < size; offset += 4096) {
            assertEquals(0L, block.get(ValueLayout.JAVA_LONG_UNALIGNED, offset), "offset " + offset);
        }
        assertEquals(0L, block.get(ValueLayout.JAVA_LONG_UNALIGNED, size - 8));
    }

    @Test
    void aHugeCallocOfFreshOrPurgedMemoryLeavesItOutOfRam() {
        try (Allocator allocator = Allocator.create()) {
            long before = Inspect.residentBytes(allocator);
            long block = allocator.calloc(1, SIZE);
            long resident = Inspect.residentBytes(allocator) - before;
            assertTrue(resident < SIZE / 16, resident + " bytes resident after calloc of " + SIZE);
            assertZero(block, SIZE); // reading maps the shared zero page: still not resident as private memory
            MemorySegment.ofAddress(block).reinterpret(SIZE).fill((byte) 0x5A);
            allocator.free(block);
            long again = allocator.calloc(SIZE / 8, 8); // the purged segment from the cache
            assertEquals(block, again, "the cached segment is reused");
            assertTrue(Inspect.residentBytes(allocator) - before < SIZE / 16);
            assertZero(again, SIZE);
            allocator.free(again);
            allocator.validate();
        }
    }

    @Test
    void aHugeCallocOfOnceExposedMemoryIsZeroed() {
        try (Allocator allocator = Allocator.create()) {
            MemorySegment exposed = allocator.allocate(SIZE, 16);
            exposed.fill((byte) 0x33);
            allocator.free(exposed);
            exposed.set(ValueLayout.JAVA_BYTE, 4096, (byte) 0x44); // a stale write after the free: stays mapped
            long block = allocator.calloc(1, SIZE);
            assertZero(block, SIZE);
            allocator.free(block);
            allocator.validate();
        }
    }
}
