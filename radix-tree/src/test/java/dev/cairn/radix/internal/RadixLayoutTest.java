package dev.cairn.radix.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RadixLayoutTest {

    @Test
    void thirtyTwoMebibyteSegmentsSplitElevenAndEleven() {
        RadixLayout layout = RadixLayout.forGranuleShift(25);
        assertEquals(22, layout.keyBits());
        assertEquals(11, layout.rootBits());
        assertEquals(11, layout.leafBits());
        assertEquals(2048, layout.rootLength());
        assertEquals(2048, layout.leafLength());
        assertEquals(2047, layout.leafMask());
        assertEquals(36, layout.rootShift());
        assertEquals(64L << 30, layout.leafSpan());
        assertEquals(16 + 2048 * 8, layout.leafBytes());
        assertEquals(16 + 2048 * 8, layout.rootBytes());
        assertEquals(16 + 2048 * 4, layout.leafCountersBytes());
    }

    @Test
    void everyAcceptedShiftCoversTheUserAddressSpaceWithSmallNodes() {
        for (int shift = RadixLayout.MIN_GRANULE_SHIFT; shift <= RadixLayout.MAX_GRANULE_SHIFT; shift++) {
            RadixLayout layout = RadixLayout.forGranuleShift(shift);
            assertEquals(RadixLayout.USER_ADDRESS_BITS, layout.granuleShift() + layout.keyBits());
            assertEquals(1L << RadixLayout.USER_ADDRESS_BITS, layout.leafSpan() * layout.rootLength());
            assertTrue(layout.leafBits() <= layout.rootBits() && layout.rootBits() <= layout.leafBits() + 1,
                    "balanced split for shift " + shift);
            if (shift >= 22 && shift <= 28) { // the segment sizes Cairn uses: every node at most 64 KiB
                assertTrue(layout.rootBytes() <= 64 * 1024 + 16, "root for shift " + shift);
                assertTrue(layout.leafBytes() <= 32 * 1024 + 16, "leaf for shift " + shift);
            }
        }
    }

    @Test
    void rejectsShiftsOutsideTheRangeAndInconsistentSplits() {
        assertThrows(IllegalArgumentException.class, () -> RadixLayout.forGranuleShift(15));
        assertThrows(IllegalArgumentException.class, () -> RadixLayout.forGranuleShift(31));
        assertThrows(IllegalArgumentException.class, () -> RadixLayout.forGranuleShift(-1));
        assertThrows(IllegalArgumentException.class, () -> new RadixLayout(25, 11, 10));
        assertThrows(IllegalArgumentException.class, () -> new RadixLayout(25, 0, 22));
    }
}
