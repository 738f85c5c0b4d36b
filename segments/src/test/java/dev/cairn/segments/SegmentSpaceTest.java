package dev.cairn.segments;

import static dev.cairn.segments.TestSpaces.MiB;
import static dev.cairn.segments.TestSpaces.SEGMENT;
import static dev.cairn.segments.TestSpaces.UNIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.SegmentConfig.Backend;
import dev.cairn.segments.raw.Raw;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The SegmentSpace contract, run against every backend available here. */
class SegmentSpaceTest {

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void everySegmentIsAlignedToItsSizeForSeveralSizes(Backend backend) {
        // arena memory is malloc'ed and zeroed, so keep its sizes modest; mmap reservations cost no RAM
        long[] sizes = backend == Backend.ARENA
                ? new long[] {4 * MiB, 8 * MiB, 32 * MiB}
                : new long[] {4 * MiB, 8 * MiB, 32 * MiB, 64 * MiB, 256 * MiB};
        for (long size : sizes) {
            try (SegmentSpace space = SegmentSpace.create(TestSpaces.config(backend).segmentSize(size).build())) {
                List<Segment> segments = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    Segment s = space.reserve();
                    assertEquals(0, s.base() % size, () -> s + " not aligned to " + size);
                    assertEquals(size, s.size());
                    for (Segment other : segments) {
                        assertTrue(s.end() <= other.base() || other.end() <= s.base(), s + " overlaps " + other);
                    }
                    segments.add(s);
                }
                assertEquals(size, space.segmentSize());
                assertEquals(3 * size, space.stats().reservedBytes());
                assertEquals(3, space.stats().liveSegments());
                segments.forEach(space::release);
                assertEquals(0, space.stats().reservedBytes());
                assertEquals(3 * size, space.stats().peakReservedBytes());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void hugeSegmentsAreAlignedToTheSegmentSize(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment huge = space.reserveHuge(3 * SEGMENT);
            assertEquals(0, huge.base() % SEGMENT);
            assertEquals(3 * SEGMENT, huge.size());
            space.commit(huge, 2 * SEGMENT, SEGMENT); // the far end is usable too
            Raw.putLong(huge.end() - 8, 42);
            assertEquals(42, Raw.getLong(huge.end() - 8));
            assertEquals(3 * SEGMENT, space.stats().reservedBytes());
            space.release(huge);
            assertEquals(0, space.stats().reservedBytes());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void commitRoundsOutwardAndNeverCountsTwice(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment s = space.reserve();
            long page = space.pageSize();
            boolean always = s.backing().alwaysCommitted();
            long base = always ? SEGMENT : 0; // arena memory is committed whole from the start
            assertEquals(base, space.stats().committedBytes());

            space.commit(s, 0, page); // one page commits its whole unit
            assertEquals(always ? SEGMENT : UNIT, space.stats().committedBytes());
            assertTrue(space.isCommitted(s, 0, UNIT));
            assertEquals(always, space.isCommitted(s, UNIT, page));

            space.commit(s, 0, page); // again: nothing new
            space.commit(s, 0, UNIT);
            assertEquals(always ? SEGMENT : UNIT, space.stats().committedBytes());

            space.commit(s, UNIT - page, 2 * page); // straddles units 0 and 1: only unit 1 is new
            assertEquals(always ? SEGMENT : 2 * UNIT, space.stats().committedBytes());

            space.commit(s, 0, 4 * UNIT); // units 2 and 3 are new, 0 and 1 kept
            assertEquals(always ? SEGMENT : 4 * UNIT, space.stats().committedBytes());
            assertEquals(always ? SEGMENT : 4 * UNIT, space.stats().peakCommittedBytes());
            assertTrue(space.isCommitted(s, 0, 4 * UNIT));
            assertEquals(always, space.isCommitted(s, 0, 4 * UNIT + page));
            assertEquals(always ? SEGMENT : 4 * UNIT, space.committedBytes(s), "the segment's own count");
            assertEquals(always ? 5 : 0, space.stats().noOpRequests());

            Raw.putLong(s.base() + 4 * UNIT - 8, -1L); // committed memory is writable to its last byte
            assertEquals(-1L, Raw.getLong(s.base() + 4 * UNIT - 8));
            assertEquals(0, Raw.getLong(s.base() + 2 * UNIT), "fresh memory reads as zeros");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void purgeRoundsInwardAndSkipsUncommittedUnits(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment s = space.reserve();
            long page = space.pageSize();
            boolean always = s.backing().alwaysCommitted();
            space.commit(s, 0, 4 * UNIT);

            space.purge(s, page, UNIT); // holds no whole unit
            assertEquals(0, space.stats().purgedBytes());
            space.purge(s, page, 2 * UNIT); // holds unit 1 whole
            assertEquals(always ? 0 : UNIT, space.stats().purgedBytes());
            space.purge(s, 0, 8 * UNIT); // unit 1 was purged already and units 4..7 are not committed: skipped
            assertEquals(always ? 0 : 4 * UNIT, space.stats().purgedBytes());
            space.purge(s, 10 * UNIT, 2 * UNIT); // nothing committed at all
            assertEquals(always ? 0 : 4 * UNIT, space.stats().purgedBytes());

            assertEquals(always ? SEGMENT : 0, space.stats().committedBytes(), "purge gives the commit back");
            assertEquals(always ? SEGMENT : 0, space.committedBytes(s), "the segment's own count too");
            assertEquals(always, space.isCommitted(s, 0, UNIT));
            assertEquals(always ? SEGMENT : 4 * UNIT, space.stats().peakCommittedBytes());
            Raw.putLong(s.base() + UNIT, 7); // purged memory stays accessible: a stale read or write cannot fault
            assertEquals(7, Raw.getLong(s.base() + UNIT));
            long protects = space.stats().protectCalls();
            space.commit(s, 0, 4 * UNIT); // counted again, with no system call
            assertEquals(always ? SEGMENT : 4 * UNIT, space.stats().committedBytes());
            assertEquals(protects, space.stats().protectCalls());
            assertTrue(space.isCommitted(s, 0, 4 * UNIT));
            assertEquals(always ? 6 : 0, space.stats().noOpRequests());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void resetDiscardsContentsAndKeepsTheCommit(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment s = space.reserve();
            boolean always = s.backing().alwaysCommitted();
            space.commit(s, 0, 2 * UNIT);
            Raw.putLong(s.base() + UNIT, 7);
            space.reset(s, 0, 2 * UNIT);
            assertEquals(always ? SEGMENT : 2 * UNIT, space.stats().committedBytes(), "reset keeps the commit");
            assertEquals(always ? 0 : 2 * UNIT, space.stats().purgedBytes());
            assertTrue(space.isCommitted(s, 0, 2 * UNIT));
            if (!always && space.config().purgeMode() == SegmentConfig.PurgeMode.DONTNEED) {
                assertEquals(0, Raw.getLong(s.base() + UNIT), "contents discarded");
            }
            Raw.putLong(s.base() + UNIT, 8);
            assertEquals(8, Raw.getLong(s.base() + UNIT));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void decommitMakesPurgedUnitsInaccessibleToo(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment s = space.reserve();
            boolean always = s.backing().alwaysCommitted();
            space.commit(s, 0, 2 * UNIT);
            space.purge(s, 0, UNIT);
            space.decommit(s, 0, 2 * UNIT);
            assertEquals(always ? SEGMENT : 0, space.stats().committedBytes());
            assertEquals(always ? 0 : 2 * UNIT, space.stats().decommittedBytes());
            long protects = space.stats().protectCalls();
            space.commit(s, 0, 2 * UNIT); // both units need the OS again
            assertEquals(always ? protects : protects + 1, space.stats().protectCalls());
            Raw.putLong(s.base(), 9);
            assertEquals(9, Raw.getLong(s.base()));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void decommitRoundsInwardAndSkipsUncommittedUnits(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment s = space.reserve();
            long page = space.pageSize();
            boolean always = s.backing().alwaysCommitted();
            space.commit(s, 0, 4 * UNIT);

            space.decommit(s, page, UNIT); // no whole unit inside
            assertEquals(always ? SEGMENT : 4 * UNIT, space.stats().committedBytes());
            assertTrue(space.isCommitted(s, 0, 4 * UNIT));

            space.decommit(s, page, 2 * UNIT); // unit 1
            assertEquals(always ? SEGMENT : 3 * UNIT, space.stats().committedBytes());
            assertEquals(always ? 0 : UNIT, space.stats().decommittedBytes());
            assertEquals(always, space.isCommitted(s, UNIT, page));
            assertTrue(space.isCommitted(s, 0, UNIT));
            assertTrue(space.isCommitted(s, 2 * UNIT, 2 * UNIT));

            space.decommit(s, 0, SEGMENT); // units 0, 2, 3; the rest were never committed
            assertEquals(always ? SEGMENT : 0, space.stats().committedBytes());
            assertEquals(always ? 0 : 4 * UNIT, space.stats().decommittedBytes());
            space.decommit(s, 0, SEGMENT); // again: nothing left to decommit
            assertEquals(always ? 0 : 4 * UNIT, space.stats().decommittedBytes());
            assertEquals(always ? SEGMENT : 4 * UNIT, space.stats().peakCommittedBytes());

            space.commit(s, UNIT, UNIT); // recommit after decommit
            assertEquals(always ? SEGMENT : UNIT, space.stats().committedBytes());
            assertEquals(0, Raw.getLong(s.base() + UNIT), "recommitted memory reads as zeros");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void commitOnReserveCommitsWholeSegments(Backend backend) {
        try (SegmentSpace space = SegmentSpace.create(TestSpaces.config(backend).commitOnReserve(true).build())) {
            Segment s = space.reserve();
            assertTrue(space.isCommitted(s, 0, SEGMENT));
            assertEquals(SEGMENT, space.stats().committedBytes());
            Raw.putLong(s.end() - 8, 1);
            Segment huge = space.reserveHuge(2 * SEGMENT);
            assertEquals(3 * SEGMENT, space.stats().committedBytes());
            space.release(huge);
            assertEquals(SEGMENT, space.stats().committedBytes());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void releaseReturnsBytesAndCommittedBytes(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment a = space.reserve();
            Segment b = space.reserve();
            space.commit(a, 0, 2 * UNIT);
            space.commit(b, 0, 3 * UNIT);
            space.release(a);
            SegmentStats stats = space.stats();
            assertEquals(SEGMENT, stats.reservedBytes());
            assertEquals(b.backing().alwaysCommitted() ? SEGMENT : 3 * UNIT, stats.committedBytes());
            assertEquals(1, stats.liveSegments());
            assertEquals(0, stats.decommittedBytes(), "release is not a decommit");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void closeReleasesEverySegment(Backend backend) {
        SegmentSpace space = TestSpaces.space(backend);
        List<Segment> segments = List.of(space.reserve(), space.reserve(), space.reserveHuge(2 * SEGMENT));
        segments.forEach(s -> space.commit(s, 0, UNIT));
        long unmapsBefore = space.stats().unmapCalls();
        space.close();
        SegmentStats stats = space.stats();
        assertEquals(0, stats.reservedBytes());
        assertEquals(0, stats.committedBytes());
        assertEquals(0, stats.liveSegments());
        assertEquals(unmapsBefore + 3, stats.unmapCalls(), "one unmap per live segment");
        assertEquals(4 * SEGMENT, stats.peakReservedBytes());
        if (backend == Backend.MMAP) {
            for (Segment s : segments) {
                assertEquals("unmapped", ProcMaps.perms(s.base()), "still mapped: " + s);
            }
        }
        space.close(); // idempotent
        assertEquals(stats, space.stats());
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void segmentsAreDistinctAcrossReleases(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment a = space.reserve();
            space.release(a);
            Segment b = space.reserve(); // may reuse a's range; must be fully usable again
            space.commit(b, 0, UNIT);
            Raw.putLong(b.base(), 3);
            assertEquals(3, Raw.getLong(b.base()));
            assertEquals(1, space.stats().liveSegments());
        }
    }
}
