package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.internal.Inspect;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Released segments wait in the allocator's cache resident for the purge delay, so a thread that starts right after
 * another ended reuses them without faulting them in again; once the delay has passed a slow path purges them, and
 * {@code collect()} unmaps the cache. With a zero delay a released segment is purged at once.
 */
class SegmentCacheTest {

    /** A thread fills about 4 MiB of small blocks, frees them all and gives its heap up: its segment is released. */
    private static void churnOneSegment(Allocator allocator) throws InterruptedException {
        Thread thread = Thread.ofPlatform().start(() -> {
            long[] blocks = new long[32 * 1024];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = allocator.malloc(128);
                Blocks.fill(blocks[i], 128, i);
            }
            for (long block : blocks) {
                allocator.free(block);
            }
            allocator.releaseCurrentThread();
        });
        thread.join();
    }

    @Test
    void aReleasedSegmentStaysResidentForThePurgeDelayThenIsPurged() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ofMillis(200))
                .build())) {
            churnOneSegment(allocator);
            assertEquals(0, allocator.stats().liveSegments());
            assertEquals(1, allocator.stats().cachedSegments());
            long resident = Inspect.residentBytes(allocator);
            assertTrue(resident >= 4L << 20, "the cached segment is still resident: " + resident);

            Thread.sleep(250);
            long block = allocator.malloc(100_000); // a slow path after the delay: purges the cache, takes a segment
            long afterPurge = Inspect.residentBytes(allocator);
            assertTrue(afterPurge < 1L << 20, "purged once the delay passed: " + afterPurge + " bytes resident");
            allocator.free(block);

            allocator.collect(true);
            assertEquals(0, allocator.stats().cachedSegments(), "collect unmaps the cache");
            allocator.validate();
        }
    }

    @Test
    void aZeroPurgeDelayPurgesAReleasedSegmentAtOnce() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ZERO).build())) {
            churnOneSegment(allocator);
            assertEquals(1, allocator.stats().cachedSegments());
            long resident = Inspect.residentBytes(allocator);
            assertTrue(resident < 64L << 10, "purged at release: " + resident + " bytes resident");
            allocator.validate();
        }
    }

    @Test
    void segmentsOfFreedSegmentSizedHugeBlocksAreReused() {
        // A huge block whose segment is exactly segmentSize went back to the cache of normal segments (its release
        // tested the size, not the kind), while a huge block looked for released segments among the huge ones only,
        // and an exposed (MemorySegment) one is never unmapped before close: allocate(4 MiB) then free, in a loop,
        // reserved 32 MiB more each time (64 GiB reserved and 8 GiB committed after 2,000 rounds).
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().commitLimit(1L << 30).build())) {
            for (long size : new long[] {600L << 10, 4L << 20, 31L << 20}) {
                for (int i = 0; i < 200; i++) {
                    java.lang.foreign.MemorySegment segment = allocator.allocate(size);
                    segment.set(java.lang.foreign.ValueLayout.JAVA_BYTE, size - 1, (byte) 1);
                    allocator.free(segment);
                    long calloced = allocator.calloc(1, size); // taken from the cache, and still zeroed
                    assertEquals(0, Blocks.view(calloced, size).get(java.lang.foreign.ValueLayout.JAVA_BYTE, size - 1));
                    allocator.free(calloced);
                }
                AllocatorStats stats = allocator.stats();
                assertTrue(stats.cachedSegments() <= 3, size + ": " + stats.cachedSegments() + " segments cached");
                assertTrue(stats.reservedBytes() <= 4 * allocator.config().segmentSize(),
                        size + ": " + stats.reservedBytes() + " bytes reserved");
            }
            allocator.validate();
        }
    }
}
