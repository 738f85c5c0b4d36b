package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Purged pages stop counting as committed (as mimalloc's purge decommits on Linux): {@code committedBytes} and the
 * commit limit count the memory the allocator holds, not memory it gave back and may never use again.
 */
class PurgedMemoryAccountingTest {

    private static final long MiB = 1 << 20;

    @Test
    void purgedPagesOfASegmentStillInUseNoLongerCountAsCommitted() {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ZERO).build())) {
            long keep = allocator.malloc(1000); // keeps the segment from going back whole
            long[] blocks = new long[8 * 1024];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = allocator.malloc(1000);
            }
            long full = allocator.stats().committedBytes();
            assertTrue(full >= 8 * MiB, "committed " + full);
            for (long block : blocks) {
                allocator.free(block);
            }
            allocator.collect(true);
            AllocatorStats after = allocator.stats();
            assertTrue(after.liveSegments() >= 1, "the segment holding the kept block stays");
            assertTrue(after.committedBytes() < 2 * MiB, "committed after the purge: " + after.committedBytes()
                    + " (before: " + full + ")");
            // reused, the pages count again
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = allocator.malloc(1000);
            }
            assertTrue(allocator.stats().committedBytes() >= 8 * MiB, "committed " + allocator.stats().committedBytes());
            for (long block : blocks) {
                allocator.free(block);
            }
            allocator.free(keep);
            allocator.validate();
        }
    }

    @Test
    void theCommitLimitCountsOnlyWhatIsHeld() {
        long limit = 40 * MiB;
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().commitLimit(limit)
                .purgeDelay(Duration.ZERO).build())) {
            // 24 MiB of small blocks, all but one freed: the emptied pages are purged, the segment stays
            long[] small = new long[24 * 1024];
            for (int i = 0; i < small.length; i++) {
                small[i] = allocator.malloc(1000);
            }
            for (int i = 1; i < small.length; i++) {
                allocator.free(small[i]);
            }
            allocator.collect(false);
            // 24 MiB more in a segment of another kind: within the limit only if the purged pages no longer count
            long[] medium = new long[240];
            try {
                for (int i = 0; i < medium.length; i++) {
                    medium[i] = allocator.malloc(100_000);
                }
            } catch (OutOfMemoryError e) { // JUnit would rethrow it and end the whole run
                fail("refused while the purged pages hold nothing: " + e.getMessage());
            }
            for (long block : medium) {
                allocator.free(block);
            }
            allocator.free(small[0]);
            allocator.validate();
        }
    }
}
