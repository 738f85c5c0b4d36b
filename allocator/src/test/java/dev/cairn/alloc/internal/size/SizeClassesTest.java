package dev.cairn.alloc.internal.size;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizeClassesTest {

    @Test
    void knownClasses() {
        long[] expected = {16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
            1024, 1280};
        for (int bin = 0; bin < expected.length; bin++) {
            assertEquals(expected[bin], SizeClasses.blockSize(bin), "bin " + bin);
        }
        assertEquals(SizeClasses.LARGE_MAX, SizeClasses.blockSize(SizeClasses.BIN_COUNT - 1));
        assertEquals(56, SizeClasses.BIN_COUNT);
    }

    @Test
    void everySizeGetsTheSmallestClassThatFits() {
        for (long size = 0; size <= SizeClasses.LARGE_MAX; size++) {
            int bin = SizeClasses.binOf(size);
            long block = SizeClasses.blockSize(bin);
            assertTrue(block >= Math.max(size, 1), "size " + size + " got " + block);
            if (bin > 0) {
                assertTrue(SizeClasses.blockSize(bin - 1) < size, "size " + size + " fits a smaller class");
            }
            assertEquals(0, block % SizeClasses.ALIGNMENT);
        }
    }

    @Test
    void classesGrowStrictlyAndWasteIsBounded() {
        for (int bin = 1; bin < SizeClasses.BIN_COUNT; bin++) {
            long previous = SizeClasses.blockSize(bin - 1);
            long block = SizeClasses.blockSize(bin);
            assertTrue(block > previous);
            // worst request for this bin is previous + 1; it wastes less than a quarter of the block
            assertTrue((block - previous - 1) * 4 < block || block <= 128, "bin " + bin);
        }
    }

    @Test
    void directSlotsCoverTheDirectRange() {
        assertEquals(0, SizeClasses.directSlot(0));
        assertEquals(1, SizeClasses.directSlot(1));
        assertEquals(1, SizeClasses.directSlot(16));
        assertEquals(2, SizeClasses.directSlot(17));
        assertEquals(SizeClasses.DIRECT_SLOTS - 1, SizeClasses.directSlot(SizeClasses.DIRECT_MAX));
    }
}
