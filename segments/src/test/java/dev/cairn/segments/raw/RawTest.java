package dev.cairn.segments.raw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

@SuppressWarnings("restricted") // the test builds its own view to check Raw against
class RawTest {

    @Test
    void readsWhatItWrites() {
        try (Arena arena = Arena.ofConfined()) {
            long a = arena.allocate(64, 64).address();
            Raw.putLong(a, 0x1122334455667788L);
            Raw.putInt(a + 8, 0xCAFEBABE);
            Raw.putShort(a + 12, (short) 0x7F01);
            Raw.putByte(a + 14, (byte) 0xA5);
            assertEquals(0x1122334455667788L, Raw.getLong(a));
            assertEquals(0xCAFEBABE, Raw.getInt(a + 8));
            assertEquals((short) 0x7F01, Raw.getShort(a + 12));
            assertEquals((byte) 0xA5, Raw.getByte(a + 14));
            // little-endian view of the long, byte by byte, proves the address really is absolute
            MemorySegment view = MemorySegment.ofAddress(a).reinterpret(8);
            assertEquals((byte) 0x88, view.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void orderedAndAtomicOperations() {
        try (Arena arena = Arena.ofConfined()) {
            long a = arena.allocate(16, 8).address();
            Raw.putLongRelease(a, 5);
            assertEquals(5, Raw.getLongAcquire(a));
            assertTrue(Raw.casLong(a, 5, 9));
            assertFalse(Raw.casLong(a, 5, 11));
            assertEquals(9, Raw.getAndAddLong(a, 3));
            assertEquals(12, Raw.getAndSetLong(a, 1));
            assertEquals(1, Raw.getLongVolatile(a));
            Raw.putIntRelease(a + 8, 7);
            assertTrue(Raw.casInt(a + 8, 7, 8));
            assertEquals(8, Raw.getAndAddInt(a + 8, 1));
            assertEquals(9, Raw.getIntAcquire(a + 8));
        }
    }

    @Test
    void bulkCopyAndFill() {
        try (Arena arena = Arena.ofConfined()) {
            long a = arena.allocate(256).address();
            Raw.fill(a, 128, (byte) 0x5A);
            Raw.copy(a, a + 128, 128);
            for (int i = 0; i < 256; i++) {
                assertEquals((byte) 0x5A, Raw.getByte(a + i));
            }
            assertEquals(128, Raw.segment(a, 128).byteSize());
        }
    }

    @Test
    void plainAccessTakesAnyAddressButAtomicsNeedAlignment() {
        try (Arena arena = Arena.ofConfined()) {
            long a = arena.allocate(32, 8).address();
            Raw.putLong(a + 1, 0x0102030405060708L);
            assertEquals(0x0102030405060708L, Raw.getLong(a + 1));
            assertEquals((byte) 0x08, Raw.getByte(a + 1));
            Raw.putInt(a + 13, 77);
            assertEquals(77, Raw.getInt(a + 13));
            assertThrows(IllegalArgumentException.class, () -> Raw.casLong(a + 4, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> Raw.getLongAcquire(a + 1));
            assertThrows(IllegalArgumentException.class, () -> Raw.getAndAddInt(a + 2, 1));
            assertEquals(0x0102030405060708L, Raw.getLong(a + 1), "a refused atomic changed nothing");
        }
    }
}
