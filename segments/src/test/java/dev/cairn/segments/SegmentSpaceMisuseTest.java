package dev.cairn.segments;

import static dev.cairn.segments.TestSpaces.SEGMENT;
import static dev.cairn.segments.TestSpaces.UNIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.SegmentConfig.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every misuse is a clear exception, leaves the counters exact, and leaves nothing mapped. */
class SegmentSpaceMisuseTest {

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void badHugeSizesAreIllegalArguments(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            long[] bad = {0, -1, -SEGMENT, 1, SEGMENT / 2, SEGMENT + 4096, 3 * SEGMENT / 2,
                SegmentSpace.ADDRESS_SPACE_LIMIT + SEGMENT, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62};
            for (long size : bad) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> space.reserveHuge(size), "size " + size);
                assertTrue(e.getMessage().contains(Long.toString(size)), e.getMessage());
            }
            assertEquals(0, space.stats().osCalls(), "validation happens before any system call");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void badRangesAreIllegalArguments(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment s = space.reserve();
            long page = space.pageSize();
            long[][] bad = {
                {-page, page}, // negative offset
                {0, 0}, // empty
                {0, -page}, // negative length
                {SEGMENT, page}, // starts at the end
                {SEGMENT - page, 2 * page}, // runs past the end
                {0, SEGMENT + page}, // longer than the segment
                {Long.MAX_VALUE - page + 1, page}, // offset + length overflows
                {page, Long.MAX_VALUE}, // huge length
                {1, page}, // misaligned offset
                {0, page + 1}, // misaligned length
                {page / 2, page / 2}, // both
            };
            SegmentStats before = space.stats();
            for (long[] r : bad) {
                for (Op op : Op.values()) {
                    assertThrows(IllegalArgumentException.class, () -> op.apply(space, s, r[0], r[1]),
                            op + " [" + r[0] + ", +" + r[1] + ")");
                }
            }
            assertEquals(before, space.stats(), "refused calls change no counter");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void nullSegmentsAreNullPointers(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            for (Op op : Op.values()) {
                assertThrows(NullPointerException.class, () -> op.apply(space, null, 0, UNIT), op.name());
            }
            assertThrows(NullPointerException.class, () -> space.release(null));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void releasedSegmentsAreIllegalState(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment s = space.reserve();
            space.commit(s, 0, UNIT);
            space.release(s);
            SegmentStats after = space.stats();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> space.release(s));
            assertTrue(e.getMessage().contains("not live"), e.getMessage());
            for (Op op : Op.values()) {
                assertThrows(IllegalStateException.class, () -> op.apply(space, s, 0, UNIT), op.name());
            }
            assertEquals(after, space.stats());
            assertEquals(0, after.liveSegments());
            assertEquals(0, after.committedBytes());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void segmentsOfAnotherSpaceOrForgedOnesAreIllegalState(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend); SegmentSpace other = TestSpaces.space(backend)) {
            Segment mine = space.reserve();
            Segment theirs = other.reserve();
            assertThrows(IllegalStateException.class, () -> space.commit(theirs, 0, UNIT));
            assertThrows(IllegalStateException.class, () -> space.release(theirs));
            Segment forged = new Segment(mine.base(), mine.size() / 2, mine.backing()); // right base, wrong size
            assertThrows(IllegalStateException.class, () -> space.commit(forged, 0, UNIT));
            assertThrows(IllegalStateException.class, () -> space.release(forged));
            assertEquals(1, space.stats().liveSegments());
            assertEquals(1, other.stats().liveSegments());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void aClosedSpaceRefusesWorkButStillReports(Backend backend) {
        SegmentSpace space = TestSpaces.space(backend);
        Segment s = space.reserve();
        space.close();
        assertThrows(IllegalStateException.class, space::reserve);
        assertThrows(IllegalStateException.class, () -> space.reserveHuge(2 * SEGMENT));
        assertThrows(IllegalStateException.class, () -> space.release(s));
        for (Op op : Op.values()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> op.apply(space, s, 0, UNIT));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        assertEquals(0, space.stats().liveSegments());
        assertEquals(SEGMENT, space.segmentSize());
        assertTrue(space.pageSize() > 0);
        assertEquals(backend, space.config().backend());
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void noMemoryIsAnOutOfMemoryErrorNamingTheSize(Backend backend) {
        try (SegmentSpace space = TestSpaces.space(backend)) {
            Segment kept = space.reserve();
            space.commit(kept, 0, UNIT);
            SegmentStats before = space.stats();
            long size = SegmentSpace.ADDRESS_SPACE_LIMIT - SEGMENT; // legal, but no such hole can exist
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> space.reserveHuge(size));
            assertTrue(e.getMessage().contains(Long.toString(size)), e.getMessage());
            assertTrue(e.getMessage().contains("TiB"), e.getMessage());
            if (backend == Backend.MMAP) {
                assertTrue(e.getMessage().contains("errno 12 (ENOMEM"), e.getMessage());
            }
            SegmentStats after = space.stats();
            assertEquals(before.reservedBytes(), after.reservedBytes());
            assertEquals(before.peakReservedBytes(), after.peakReservedBytes());
            assertEquals(before.committedBytes(), after.committedBytes());
            assertEquals(before.liveSegments(), after.liveSegments());
            assertEquals(before.failedCalls() + 1, after.failedCalls());
            space.commit(kept, UNIT, UNIT); // the space still works
            space.release(kept);
            assertEquals(0, space.stats().reservedBytes());
        }
    }

    /** The range operations, so each misuse is tried on all of them. */
    private enum Op {
        COMMIT((sp, s, o, l) -> sp.commit(s, o, l)),
        DECOMMIT((sp, s, o, l) -> sp.decommit(s, o, l)),
        PURGE((sp, s, o, l) -> sp.purge(s, o, l)),
        IS_COMMITTED((sp, s, o, l) -> sp.isCommitted(s, o, l));

        private final RangeCall call;

        Op(RangeCall call) {
            this.call = call;
        }

        void apply(SegmentSpace space, Segment segment, long offset, long length) {
            call.apply(space, segment, offset, length);
        }
    }

    @FunctionalInterface
    private interface RangeCall {
        void apply(SegmentSpace space, Segment segment, long offset, long length);
    }
}
