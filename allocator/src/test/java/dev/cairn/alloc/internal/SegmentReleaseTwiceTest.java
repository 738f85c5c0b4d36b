package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import org.junit.jupiter.api.Test;

/**
 * A segment given back twice is an internal error caught at the second {@code SegmentStore.release}, where it
 * happens: queued, the second release would give back whatever segment reuses the base by then (the cache hands a
 * released base out again at once) and fail far from its cause.
 */
class SegmentReleaseTwiceTest {

    private static final long HUGE = 1L << 20; // a segment of its own, released (into the cache) at its free

    @Test
    void aSecondReleaseOfTheSameSegmentIsRefused() {
        try (Allocator created = Allocator.create()) {
            AllocatorImpl allocator = (AllocatorImpl) created;
            SegmentStore store = allocator.store();
            long block = allocator.malloc(HUGE);
            long base = store.segmentOf(block);
            assertTrue(base != 0);
            allocator.free(block); // the first release
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> store.release(base));
            assertTrue(thrown.getMessage().contains("released twice"), thrown.getMessage());

            long again = allocator.malloc(HUGE); // the cached segment comes back, unharmed by the refused release
            assertEquals(base, store.segmentOf(again));
            allocator.free(again);
            allocator.validate();
        }
    }

    @Test
    void aSecondReleaseWhileTheFirstWaitsForAWalkIsRefused() {
        try (Allocator created = Allocator.create()) {
            AllocatorImpl allocator = (AllocatorImpl) created;
            SegmentStore store = allocator.store();
            long block = allocator.malloc(HUGE);
            long base = store.segmentOf(block);
            store.pin(); // a walk: the first release is queued, the segment stays live and mapped
            try {
                allocator.free(block);
                IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> store.release(base));
                assertTrue(thrown.getMessage().contains("released twice"), thrown.getMessage());
            } finally {
                store.unpin();
            }
            allocator.validate();
        }
    }
}
