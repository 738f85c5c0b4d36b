package dev.cairn.segments;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SegmentStatsTest {

    @Test
    void osCallsAddsTheKinds() {
        SegmentStats s = new SegmentStats(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        assertEquals(8 + 9 + 10 + 11, s.osCalls());
    }

    @Test
    void jsonHasEveryCounterInOrder() {
        SegmentStats s = new SegmentStats(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        assertEquals("{\"version\":1,\"reservedBytes\":1,\"peakReservedBytes\":2,\"committedBytes\":3,"
                + "\"peakCommittedBytes\":4,\"purgedBytes\":5,\"decommittedBytes\":6,\"liveSegments\":7,"
                + "\"osCalls\":38,\"mapCalls\":8,\"unmapCalls\":9,\"protectCalls\":10,\"adviseCalls\":11,"
                + "\"failedCalls\":12,\"hugePageFallbacks\":13,\"noOpRequests\":14}", s.toJson());
    }
}
