package dev.cairn.segments;

import static dev.cairn.segments.TestSpaces.MiB;
import static dev.cairn.segments.TestSpaces.SEGMENT;
import static dev.cairn.segments.TestSpaces.UNIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.segments.SegmentConfig.Backend;
import dev.cairn.segments.SegmentConfig.PurgeMode;
import dev.cairn.segments.internal.Platform;
import dev.cairn.segments.raw.Raw;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the mmap backend does to real memory, checked from the kernel's side: residency with mincore, protection in
 * /proc/self/smaps. Never by touching inaccessible memory, which would kill the JVM.
 */
class LinuxSegmentSpaceTest {

    @BeforeAll
    static void onlyWhereMmapRuns() {
        assumeTrue(Platform.mmapSupported(), "mmap backend needs Linux x86_64/aarch64");
    }

    private static SegmentSpace space(PurgeMode mode) {
        return SegmentSpace.create(TestSpaces.config(Backend.MMAP).purgeMode(mode).build());
    }

    private static void touch(long address, long length, long page) {
        for (long off = 0; off < length; off += page) {
            Raw.putLong(address + off, off + 1);
        }
    }

    @Test
    void aReservationIsInaccessibleAndCostsNoMemory() {
        try (SegmentSpace space = space(PurgeMode.DONTNEED)) {
            Segment s = space.reserve();
            assertEquals("---p", ProcMaps.perms(s.base()));
            assertEquals("---p", ProcMaps.perms(s.end() - 1));
            assertEquals(0, ProcessMemory.residentBytes(s));
            SegmentStats stats = space.stats();
            assertEquals(1, stats.mapCalls(), "one over-reservation");
            assertTrue(stats.unmapCalls() <= 2, "at most head and tail trimmed");
        }
    }

    @Test
    void commitMakesTheRangeWritableAndOnlyTheRange() {
        try (SegmentSpace space = space(PurgeMode.DONTNEED)) {
            Segment s = space.reserve();
            space.commit(s, UNIT, 2 * UNIT);
            assertEquals("rw-p", ProcMaps.perms(s.base() + UNIT));
            assertEquals("rw-p", ProcMaps.perms(s.base() + 3 * UNIT - 1));
            assertEquals("---p", ProcMaps.perms(s.base() + UNIT - 1));
            assertEquals("---p", ProcMaps.perms(s.base() + 3 * UNIT));
            assertEquals(0, ProcessMemory.residentBytes(s.base() + UNIT, 2 * UNIT), "committed is not resident");
        }
    }

    @Test
    void retireGivesTheMemoryBackAndKeepsTheAddressesReadableUntilClose() {
        SegmentSpace space = space(PurgeMode.DONTNEED);
        Segment s = space.reserve();
        Segment huge = space.reserveHuge(2 * SEGMENT);
        long page = space.pageSize();
        long length = 2 * MiB;
        space.commit(s, 0, length);
        touch(s.base(), length, page);
        space.commit(huge, huge.size() - UNIT, UNIT);
        touch(huge.end() - UNIT, UNIT, page);
        assertEquals(length, ProcessMemory.residentBytes(s.base(), length));

        space.retire();
        assertEquals(0, ProcessMemory.residentBytes(s), "the memory went back");
        assertEquals(0, ProcessMemory.residentBytes(huge), "the memory went back");
        for (Segment each : new Segment[] {s, huge}) { // every page readable now, the never-committed ones too
            assertEquals("rw-p", ProcMaps.perms(each.base()));
            assertEquals("rw-p", ProcMaps.perms(each.end() - 1));
        }
        assertEquals(0, Raw.getLong(s.base() + page), "retired memory reads as zeros");
        assertEquals(0, Raw.getLong(huge.base()), "retired memory reads as zeros");
        Raw.putLong(s.end() - 8, 7); // and takes writes
        assertEquals(7, Raw.getLong(s.end() - 8));
        assertEquals(0, space.stats().committedBytes());
        assertEquals(SEGMENT * 3, space.stats().reservedBytes(), "the addresses are still held");
        assertThrows(IllegalStateException.class, space::reserve);
        assertThrows(IllegalStateException.class, () -> space.commit(s, 0, UNIT));
        assertThrows(IllegalStateException.class, () -> space.release(s));
        space.retire(); // a second time: nothing

        space.close();
        assertTrue(ProcMaps.find(s.base()).isEmpty(), "close unmaps what retire kept");
        assertTrue(ProcMaps.find(huge.base()).isEmpty(), "close unmaps what retire kept");
        assertEquals(0, space.stats().reservedBytes());
        assertEquals(0, space.stats().liveSegments());
        space.retire(); // after close: nothing
    }

    @Test
    void purgeReallyDropsResidencyAndZeroesWithDontneed() {
        try (SegmentSpace space = space(PurgeMode.DONTNEED)) {
            Segment s = space.reserve();
            long page = space.pageSize();
            long length = 2 * MiB;
            space.commit(s, 0, length);
            touch(s.base(), length, page);
            assertEquals(length, ProcessMemory.residentBytes(s.base(), length));

            space.purge(s, 0, length);
            assertEquals(0, ProcessMemory.residentBytes(s.base(), length));
            assertEquals(length, space.stats().purgedBytes());
            assertEquals(0, Raw.getLong(s.base() + page), "DONTNEED memory reads as zeros");
            assertEquals("rw-p", ProcMaps.perms(s.base()), "purged memory stays usable");
            Raw.putLong(s.base(), 9);
            assertEquals(9, Raw.getLong(s.base()));
        }
    }

    @Test
    void discardPurgedDropsWhatAStaleWriteBroughtBackAndCountsNothing() {
        try (SegmentSpace space = space(PurgeMode.DONTNEED)) {
            Segment s = space.reserve();
            long unit = space.config().commitUnit();
            long page = space.pageSize();
            space.commit(s, 0, 4 * unit);
            touch(s.base(), 4 * unit, page);
            space.purge(s, unit, 2 * unit);
            touch(s.base() + unit, unit, page); // a use after free: the purged unit is resident again
            assertEquals(2 * unit + unit, ProcessMemory.residentBytes(s.base(), 4 * unit));
            SegmentStats before = space.stats();
            space.discardPurged(s, 0, 4 * unit); // only the purged units 1 and 2; units 0 and 3 stay
            assertEquals(2 * unit, ProcessMemory.residentBytes(s.base(), 4 * unit));
            assertEquals(0, Raw.getLong(s.base() + unit), "DONTNEED reads as zeros");
            assertEquals(1, Raw.getLong(s.base()), "a committed unit keeps its contents");
            SegmentStats after = space.stats();
            assertEquals(before.committedBytes(), after.committedBytes());
            assertEquals(before.purgedBytes(), after.purgedBytes());
        }
    }

    @Test
    void purgeDropsOnlyWholeUnits() {
        try (SegmentSpace space = space(PurgeMode.DONTNEED)) {
            Segment s = space.reserve();
            long page = space.pageSize();
            space.commit(s, 0, 4 * UNIT);
            touch(s.base(), 4 * UNIT, page);
            space.purge(s, UNIT / 2, 2 * UNIT); // only unit 1 lies wholly inside
            assertEquals(3 * UNIT, ProcessMemory.residentBytes(s.base(), 4 * UNIT));
            assertEquals(0, ProcessMemory.residentBytes(s.base() + UNIT, UNIT));
            assertEquals(UNIT / 2 + 1, Raw.getLong(s.base() + UNIT / 2), "half-covered unit 0 keeps its data");
            assertEquals(2 * UNIT + 1, Raw.getLong(s.base() + 2 * UNIT), "half-covered unit 2 keeps its data");
        }
    }

    @Test
    void freeModePurgesAndKeepsTheMemoryUsable() {
        try (SegmentSpace space = space(PurgeMode.FREE)) {
            Segment s = space.reserve();
            long page = space.pageSize();
            space.commit(s, 0, 4 * UNIT);
            touch(s.base(), 4 * UNIT, page);
            long advisesBefore = space.stats().adviseCalls();
            space.purge(s, 0, 4 * UNIT);
            assertEquals(4 * UNIT, space.stats().purgedBytes());
            assertTrue(space.stats().adviseCalls() > advisesBefore);
            // MADV_FREE pages stay resident until memory pressure, so residency is not asserted; a write after the
            // purge must stick, though, because it cancels the lazy free of that page.
            Raw.putLong(s.base(), 77);
            assertEquals(77, Raw.getLong(s.base()));
        }
    }

    @Test
    void decommitMakesTheRangeInaccessibleAndNonResident() {
        try (SegmentSpace space = space(PurgeMode.DONTNEED)) {
            Segment s = space.reserve();
            long page = space.pageSize();
            space.commit(s, 0, 4 * UNIT);
            touch(s.base(), 4 * UNIT, page);
            space.decommit(s, UNIT, 2 * UNIT);
            assertEquals("---p", ProcMaps.perms(s.base() + UNIT));
            assertEquals("---p", ProcMaps.perms(s.base() + 3 * UNIT - 1));
            assertEquals("rw-p", ProcMaps.perms(s.base()));
            assertEquals("rw-p", ProcMaps.perms(s.base() + 3 * UNIT));
            assertEquals(0, ProcessMemory.residentBytes(s.base() + UNIT, 2 * UNIT));
            assertEquals(2 * UNIT, ProcessMemory.residentBytes(s.base(), 4 * UNIT));

            space.commit(s, UNIT, page); // recommit: accessible again, contents gone
            assertEquals("rw-p", ProcMaps.perms(s.base() + UNIT));
            assertEquals(0, Raw.getLong(s.base() + UNIT));
        }
    }

    @Test
    void releaseUnmapsTheRange() {
        try (SegmentSpace space = space(PurgeMode.DONTNEED)) {
            Segment s = space.reserve();
            space.commit(s, 0, UNIT);
            space.release(s);
            assertEquals("unmapped", ProcMaps.perms(s.base()));
        }
    }

    @Test
    void theOutOfMemoryErrorCarriesTheErrnoText() {
        try (SegmentSpace space = space(PurgeMode.DONTNEED)) {
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class,
                    () -> space.reserveHuge(SegmentSpace.ADDRESS_SPACE_LIMIT - SEGMENT));
            // "cannot reserve address space for 128.0 TiB (140737484161024 bytes): mmap(...) failed: errno 12 (...)"
            assertTrue(e.getMessage().matches(".*mmap\\(.*\\) failed: errno 12 \\(ENOMEM: .+\\)"), e.getMessage());
            assertEquals(0, space.stats().mapCalls() - space.stats().failedCalls());
        }
    }
}
