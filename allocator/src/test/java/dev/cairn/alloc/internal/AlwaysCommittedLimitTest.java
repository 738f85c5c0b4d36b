package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.SegmentConfig;
import dev.cairn.segments.SegmentSpace;
import org.junit.jupiter.api.Test;

/**
 * The commit limit over segments that come committed whole: explicit huge pages (which this machine may not have)
 * and the portable arena backend, which is the same to the store and runs anywhere.
 */
class AlwaysCommittedLimitTest {

    private static final long SEGMENT = 4L << 20;
    private static final long LIMIT = 4 * SEGMENT + SEGMENT / 2;

    @Test
    void segmentsCommittedWholeCountAgainstTheLimit() {
        SegmentSpace space = SegmentSpace.create(SegmentConfig.builder().segmentSize(SEGMENT)
                .backend(SegmentConfig.Backend.ARENA).build());
        SegmentStore store = new SegmentStore(space, 1, LIMIT, 0);
        try {
            long tid = Thread.currentThread().threadId();
            for (int i = 0; i < 4; i++) {
                store.newSegment(SegmentLayout.Kind.SMALL, 0, tid, false, 0);
            }
            // the reservation committed the segment, and commit() found nothing left to commit, so nothing checked
            // the limit: every further segment was taken, past it
            OutOfMemoryError error = assertThrows(OutOfMemoryError.class,
                    () -> store.newSegment(SegmentLayout.Kind.SMALL, 0, tid, false, 0));
            assertTrue(error.getMessage().contains("limit of " + LIMIT), error.getMessage());
            assertThrows(OutOfMemoryError.class, () -> store.newHugeSegment(SEGMENT, 16, 0, tid, false, 0, true));
            assertEquals(4 * SEGMENT, space.stats().committedBytes()); // the refused ones went back
            assertEquals(4, space.stats().liveSegments());
        } finally {
            store.retireAll();
            space.close();
        }
    }
}
