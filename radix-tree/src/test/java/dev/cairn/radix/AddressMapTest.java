package dev.cairn.radix;

import static dev.cairn.radix.AddressMap.NOT_OURS;
import static dev.cairn.radix.AddressMap.USER_ADDRESS_LIMIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.radix.internal.RadixLayout;
import java.util.Arrays;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class AddressMapTest {

    private static final int SHIFT = 25;
    private static final long G = 1L << SHIFT; // 32 MiB granule
    private static final RadixLayout LAYOUT = RadixLayout.forGranuleShift(SHIFT);
    private static final long SPAN = LAYOUT.leafSpan(); // 64 GiB per leaf
    private static final long EMPTY_BYTES = LAYOUT.rootBytes() + LAYOUT.leafCountersBytes() + LAYOUT.windowBytes();

    private final AddressMap map = AddressMap.create(SHIFT);

    @Test
    void firstAndLastByteHitTheBytesAroundMiss() {
        long base = 0x7f12_0000_0000L;
        map.insert(base, G, 0xA1);
        assertEquals(0xA1, map.lookup(base));
        assertEquals(0xA1, map.lookup(base + 1));
        assertEquals(0xA1, map.lookup(base + G / 2));
        assertEquals(0xA1, map.lookup(base + G - 1));
        assertEquals(NOT_OURS, map.lookup(base - 1));
        assertEquals(NOT_OURS, map.lookup(base + G));
        assertEquals(1, map.mappedGranules());
        assertEquals(1, map.leafCount());
        assertEquals(SHIFT, map.granuleShift());
        map.validate();
    }

    @Test
    void oddAddressesAreNeverOurs() {
        long base = 5 * SPAN + 7 * G;
        map.insert(base, G, 0xB2);
        map.insert(G, G, 0xB3); // the lowest granule that may be mapped, and so root slot 0 holds a leaf
        for (long address : new long[] {0, 1, G - 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, USER_ADDRESS_LIMIT,
                USER_ADDRESS_LIMIT - 1, USER_ADDRESS_LIMIT + 1, -G, 3 * SPAN + 7 * G, base + 2 * G}) {
            assertEquals(NOT_OURS, map.lookup(address), () -> "0x" + Long.toHexString(address));
        }
        // the high bits must not be dropped: base with any bit at or above 47 set is a different address
        for (int bit = 47; bit < 64; bit++) {
            long alias = base | (1L << bit);
            assertEquals(NOT_OURS, map.lookup(alias), () -> "alias 0x" + Long.toHexString(alias));
            assertEquals(NOT_OURS, map.lookup(G | (1L << bit)));
        }
        assertEquals(0xB2, map.lookup(base));
        assertEquals(0xB3, map.lookup(G));
        assertEquals(0xB2, map.remove(base, G));
        assertEquals(NOT_OURS, map.lookup(base));
        assertEquals(NOT_OURS, map.lookup(base + G - 1));
    }

    @Test
    void theTopGranuleOfUserSpaceEndsJustBelowTheLimit() {
        long top = USER_ADDRESS_LIMIT - G;
        map.insert(top, G, 0xC4);
        assertEquals(0xC4, map.lookup(USER_ADDRESS_LIMIT - 1));
        assertEquals(0xC4, map.lookup(top));
        assertEquals(NOT_OURS, map.lookup(top - 1));
        assertEquals(NOT_OURS, map.lookup(USER_ADDRESS_LIMIT));
        assertEquals(NOT_OURS, map.lookup(Long.MAX_VALUE));
        assertEquals(0xC4, map.remove(top, G));
        assertEquals(NOT_OURS, map.lookup(USER_ADDRESS_LIMIT - 1));
    }

    @Test
    void aHugeRangeCrossingALeafBoundaryMapsEveryGranuleToOneValue() {
        long base = 3 * SPAN - 3 * G;
        long size = 10 * G;
        map.insert(base, size, 0xD5);
        assertEquals(2, map.leafCount());
        assertEquals(10, map.mappedGranules());
        for (long g = base; g < base + size; g += G) {
            assertEquals(0xD5, map.lookup(g));
            assertEquals(0xD5, map.lookup(g + G - 1));
        }
        assertEquals(NOT_OURS, map.lookup(base - 1));
        assertEquals(NOT_OURS, map.lookup(base + size));
        map.validate();
        assertEquals(0xD5, map.remove(base, size));
        assertEquals(2, map.leafCount()); // kept for the next insert into their spans
        assertEquals(0, map.mappedGranules());
        assertEquals(NOT_OURS, map.lookup(3 * SPAN));
    }

    @Test
    void aRangeSpanningSeveralWholeLeaves() {
        AddressMap small = AddressMap.create(16); // 64 KiB granules, 2 GiB leaves
        long span = RadixLayout.forGranuleShift(16).leafSpan();
        long base = 7 * span - (1L << 16);
        long size = 3 * span + (2L << 16); // touches 5 leaves
        small.insert(base, size, 0xE6);
        assertEquals(5, small.leafCount());
        assertEquals(size >>> 16, small.mappedGranules());
        for (long a = base; a < base + size; a += span / 3) {
            assertEquals(0xE6, small.lookup(a));
        }
        assertEquals(0xE6, small.lookup(base + size - 1));
        assertEquals(NOT_OURS, small.lookup(base + size));
        small.validate();
        assertEquals(0xE6, small.remove(base, size));
        assertEquals(5, small.leafCount());
        assertEquals(NOT_OURS, small.lookup(base + span));
        small.validate();
    }

    @Test
    void theWholeUserSpaceAboveTheNullGranuleCanBeOneRange() {
        AddressMap big = AddressMap.create(30);
        long granule = 1L << 30;
        big.insert(granule, USER_ADDRESS_LIMIT - granule, 0xF7);
        assertEquals((USER_ADDRESS_LIMIT >>> 30) - 1, big.mappedGranules());
        assertEquals(RadixLayout.forGranuleShift(30).rootLength(), big.leafCount());
        assertEquals(0xF7, big.lookup(granule));
        assertEquals(0xF7, big.lookup(USER_ADDRESS_LIMIT - 1));
        assertEquals(NOT_OURS, big.lookup(granule - 1));
        assertEquals(NOT_OURS, big.lookup(USER_ADDRESS_LIMIT));
        big.validate();
        assertEquals(0xF7, big.remove(granule, USER_ADDRESS_LIMIT - granule));
        assertEquals(0, big.mappedGranules());
        assertEquals(NOT_OURS, big.lookup(USER_ADDRESS_LIMIT - 1));
    }

    @Test
    void emptiedLeavesAreKeptForTheirSpanAndMemoryFollows() {
        assertEquals(EMPTY_BYTES, map.memoryBytes());
        map.insert(SPAN, G, 1);
        assertEquals(EMPTY_BYTES + LAYOUT.leafBytes(), map.memoryBytes());
        map.insert(SPAN + 5 * G, 2 * G, 2); // same leaf: no new memory
        assertEquals(EMPTY_BYTES + LAYOUT.leafBytes(), map.memoryBytes());
        map.insert(9 * SPAN, G, 3);
        map.insert(20 * SPAN - G, 2 * G, 4); // two more leaves
        assertEquals(4, map.leafCount());
        assertEquals(EMPTY_BYTES + 4 * LAYOUT.leafBytes(), map.memoryBytes());

        assertEquals(1, map.remove(SPAN, G)); // the leaf still holds range 2
        assertEquals(2, map.remove(SPAN + 5 * G, 2 * G));
        assertEquals(4, map.remove(20 * SPAN - G, 2 * G));
        assertEquals(3, map.remove(9 * SPAN, G));
        assertEquals(0, map.mappedGranules());
        assertEquals(4, map.leafCount(), "emptied leaves stay, ready for their spans");
        assertEquals(EMPTY_BYTES + 4 * LAYOUT.leafBytes(), map.memoryBytes());
        assertEquals(NOT_OURS, map.lookup(SPAN));
        assertEquals(NOT_OURS, map.lookup(20 * SPAN));
        map.validate();

        map.insert(SPAN, G, 5); // an emptied leaf's span is mapped again into the same leaf: no new memory
        assertEquals(5, map.lookup(SPAN));
        assertEquals(4, map.leafCount());
        assertEquals(EMPTY_BYTES + 4 * LAYOUT.leafBytes(), map.memoryBytes());
        map.validate();
    }

    @Test
    void aSubRangeOfOneValueMayBeRemovedAndSplitsIt() {
        long base = 2 * SPAN;
        map.insert(base, 6 * G, 0x77);
        assertEquals(0x77, map.remove(base + 2 * G, 2 * G));
        assertEquals(0x77, map.lookup(base + 2 * G - 1));
        assertEquals(NOT_OURS, map.lookup(base + 2 * G));
        assertEquals(NOT_OURS, map.lookup(base + 4 * G - 1));
        assertEquals(0x77, map.lookup(base + 4 * G));
        assertEquals(4, map.mappedGranules());
        map.validate();
    }

    @Test
    void adjacentRangesWithOneValueMayBeRemovedTogether() {
        map.insert(4 * G, G, 9);
        map.insert(5 * G, 2 * G, 9);
        assertEquals(9, map.remove(4 * G, 3 * G));
        assertEquals(0, map.mappedGranules());
    }

    @Test
    void createRejectsGranuleShiftsOutsideTheRange() {
        for (int shift : new int[] {Integer.MIN_VALUE, -1, 0, 12, 15, 31, 47, 64}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> AddressMap.create(shift));
            assertTrue(e.getMessage().contains(Integer.toString(shift)), e.getMessage());
        }
        assertEquals(16, AddressMap.create(16).granuleShift());
        assertEquals(30, AddressMap.create(30).granuleShift());
    }

    @Test
    void badInsertsThrowIllegalArgumentAndChangeNothing() {
        populate();
        long[] before = snapshot();
        long top = USER_ADDRESS_LIMIT - G;
        rejects(IllegalArgumentException.class, () -> map.insert(40 * G, 0, 1), "0x0", before);
        rejects(IllegalArgumentException.class, () -> map.insert(40 * G, -G, 1), "0xfffffffffe000000", before);
        rejects(IllegalArgumentException.class, () -> map.insert(40 * G + 4096, G, 1), "0x50001000", before);
        rejects(IllegalArgumentException.class, () -> map.insert(40 * G, G + 1, 1), "0x2000001", before);
        rejects(IllegalArgumentException.class, () -> map.insert(-G, G, 1), "0xfffffffffe000000", before);
        rejects(IllegalArgumentException.class, () -> map.insert(Long.MIN_VALUE, G, 1), "0x8000000000000000",
                before);
        rejects(IllegalArgumentException.class, () -> map.insert(USER_ADDRESS_LIMIT, G, 1), "0x800000000000",
                before);
        rejects(IllegalArgumentException.class, () -> map.insert(top, 2 * G, 1), "0x7ffffe000000", before);
        rejects(IllegalArgumentException.class, () -> map.insert(G, Long.MAX_VALUE - G + 1, 1), "0x2000000",
                before);
        rejects(IllegalArgumentException.class, () -> map.insert(0, G, 1), "null", before);
        rejects(IllegalArgumentException.class, () -> map.insert(40 * G, G, NOT_OURS), "NOT_OURS", before);
    }

    @Test
    void overlappingInsertsThrowIllegalStateAndChangeNothing() {
        populate(); // [10G, 13G) -> 0x10, [SPAN + 2G, SPAN + 3G) -> 0x20
        long[] before = snapshot();
        rejects(IllegalStateException.class, () -> map.insert(10 * G, 3 * G, 0x99), "0x14000000", before);
        rejects(IllegalStateException.class, () -> map.insert(8 * G, 3 * G, 0x99), "0x14000000", before);
        rejects(IllegalStateException.class, () -> map.insert(12 * G, 3 * G, 0x99), "0x18000000", before);
        rejects(IllegalStateException.class, () -> map.insert(11 * G, G, 0x99), "0x16000000", before);
        rejects(IllegalStateException.class, () -> map.insert(G, 20 * G, 0x99), "0x14000000", before);
        // starts in an empty leaf, clashes in the next one: no leaf may be left behind
        rejects(IllegalStateException.class, () -> map.insert(SPAN - 2 * G, 5 * G, 0x99), "0x1004000000", before);
        rejects(IllegalStateException.class, () -> map.insert(SPAN - 3 * SPAN / 4, SPAN, 0x99), "0x1004000000",
                before);
    }

    @Test
    void badRemovesThrowAndChangeNothing() {
        populate();
        long[] before = snapshot();
        rejects(IllegalArgumentException.class, () -> map.remove(10 * G, 0), "positive", before);
        rejects(IllegalArgumentException.class, () -> map.remove(10 * G + 1, G), "0x14000001", before);
        rejects(IllegalArgumentException.class, () -> map.remove(10 * G, G - 1), "0x1ffffff", before);
        rejects(IllegalArgumentException.class, () -> map.remove(-10 * G, G), "0xffffffffec000000 size 0x2000000: a",
                before);
        rejects(IllegalArgumentException.class, () -> map.remove(USER_ADDRESS_LIMIT, G), "0x800000000000", before);
        rejects(IllegalArgumentException.class, () -> map.remove(0, 11 * G), "null", before);
        rejects(IllegalStateException.class, () -> map.remove(40 * G, G), "not mapped", before);
        rejects(IllegalStateException.class, () -> map.remove(9 * G, 2 * G), "0x12000000 is not mapped", before);
        rejects(IllegalStateException.class, () -> map.remove(12 * G, 2 * G), "0x1a000000 is not mapped", before);
        rejects(IllegalStateException.class, () -> map.remove(10 * G, 4 * G), "0x1a000000", before);
        // two different values in one range
        map.insert(13 * G, G, 0x30);
        long[] withThird = snapshot();
        rejects(IllegalStateException.class, () -> map.remove(12 * G, 2 * G), "maps to 0x30", withThird);
        rejects(IllegalStateException.class, () -> map.remove(10 * G, SPAN + 3 * G - 10 * G), "0x30", withThird);
    }

    @Test
    void replaceChangesTheValueOfOneWholeRangeAndNothingElse() {
        populate();
        long cross = SPAN - G; // a range across the first leaf boundary
        map.insert(cross, 2 * G, 0x40);
        assertEquals(0x10, map.replace(10 * G, 3 * G, 0x11));
        assertEquals(0x40, map.replace(cross, 2 * G, 0x41));
        for (long k = 10; k < 13; k++) {
            assertEquals(0x11, map.lookup(k * G + k));
        }
        assertEquals(0x41, map.lookup(cross));
        assertEquals(0x41, map.lookup(SPAN + G - 1));
        assertEquals(0x20, map.lookup(SPAN + 2 * G));
        assertEquals(NOT_OURS, map.lookup(13 * G));
        assertEquals(6, map.mappedGranules());
        map.validate();
        assertEquals(0x11, map.remove(10 * G, 3 * G)); // the new value is what remove finds
    }

    @Test
    void badReplacesThrowAndChangeNothing() {
        populate();
        long[] before = snapshot();
        rejects(IllegalArgumentException.class, () -> map.replace(10 * G, 3 * G, NOT_OURS), "cannot replace", before);
        rejects(IllegalArgumentException.class, () -> map.replace(10 * G + 1, G, 1), "0x14000001", before);
        rejects(IllegalStateException.class, () -> map.replace(40 * G, G, 1), "cannot replace", before);
        rejects(IllegalStateException.class, () -> map.replace(12 * G, 2 * G, 1), "0x1a000000 is not mapped", before);
        map.insert(13 * G, G, 0x30);
        long[] withThird = snapshot();
        rejects(IllegalStateException.class, () -> map.replace(12 * G, 2 * G, 1), "maps to 0x30", withThird);
    }

    @Test
    void errorMessagesMentionTheAddressLimitAndItsReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> map.insert(USER_ADDRESS_LIMIT + G, G, 1));
        assertTrue(e.getMessage().contains("2^47") && e.getMessage().contains("mmap"), e.getMessage());
    }

    @Test
    void toStringSummarises() {
        map.insert(G, G, 1);
        assertEquals("AddressMap[granule=0x2000000, mappedGranules=1, leaves=1]", map.toString());
    }

    // ---- helpers ----

    /** Two ranges in two leaves: [10G, 13G) -> 0x10 and [SPAN + 2G, SPAN + 3G) -> 0x20. */
    private void populate() {
        map.insert(10 * G, 3 * G, 0x10);
        map.insert(SPAN + 2 * G, G, 0x20);
    }

    /** Counters, memory, and the answer for the first and last byte of every granule in the first two leaves. */
    private long[] snapshot() {
        LongStream counters = LongStream.of(map.mappedGranules(), map.leafCount(), map.memoryBytes());
        LongStream probes = LongStream.range(0, 2 * SPAN / G)
                .flatMap(k -> LongStream.of(map.lookup(k * G), map.lookup(k * G + G - 1)));
        return LongStream.concat(counters, probes).toArray();
    }

    private <T extends Throwable> void rejects(Class<T> type, Executable call, String messagePart, long[] before) {
        T e = assertThrows(type, call);
        assertTrue(e.getMessage().contains(messagePart), () -> "'" + messagePart + "' not in: " + e.getMessage());
        long[] after = snapshot();
        assertArrayEquals(before, after, () -> "changed after: " + e.getMessage() + "; counters "
                + Arrays.toString(Arrays.copyOf(after, 3)));
        map.validate();
    }

    @Test
    void windowAndTreeAgreeInsideOutsideAndAtTheWindowEdges() {
        AddressMap map = AddressMap.create(25);
        long granule = 1L << 25;
        long first = 0x7f00_0000_0000L;
        map.insert(first, granule, first); // centres the window on this granule
        int half = RadixLayout.WINDOW_LENGTH / 2;
        long[] bases = {first - half * granule, first - (half + 1) * granule, first + (half - 1) * granule,
            first + half * granule, first - 100_000 * granule, granule};
        for (long base : bases) {
            map.insert(base, granule, base);
        }
        map.validate();
        for (long base : bases) {
            assertEquals(base, map.lookup(base));
            assertEquals(base, map.lookup(base + granule - 1));
        }
        assertEquals(AddressMap.NOT_OURS, map.lookup(first + 2 * granule));
        assertEquals(AddressMap.NOT_OURS, map.lookup(first - 2 * granule));
        for (long base : bases) {
            assertEquals(base, map.remove(base, granule));
            assertEquals(AddressMap.NOT_OURS, map.lookup(base));
        }
        assertEquals(first, map.lookup(first + 5));
        map.validate();
        assertEquals(first, map.remove(first, granule));
        assertEquals(AddressMap.NOT_OURS, map.lookup(first));
        map.validate();
    }
}
