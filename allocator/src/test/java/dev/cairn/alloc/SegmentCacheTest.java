package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.internal.Inspect;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Released segments wait in the allocator's cache resident, so a thread that starts right after another ended reuses
 * them without faulting them in again: ten purge delays while the segments kept so hold at most half of what the
 * allocator has committed (at least a quarter segment), else one delay. Once its time has passed a slow path purges a
 * segment, and {@code collect()} unmaps the cache. With a zero delay a released segment is purged at once.
 */
class SegmentCacheTest {

    private static final long DELAY_MILLIS = 50;

    /** A thread fills {@code mib} MiB of small blocks, frees them all and gives its heap up: its segment is released. */
    private static void churnOneSegment(Allocator allocator, int mib) throws InterruptedException {
        Thread thread = Thread.ofPlatform().start(() -> {
            long[] blocks = new long[mib * 8 * 1024];
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

    private static void churnOneSegment(Allocator allocator) throws InterruptedException {
        churnOneSegment(allocator, 4);
    }

    /**
     * Runs a slow path on the calling thread (a size class it has no page for, in the segment it already owns): it
     * purges the cached segments whose time has passed, and takes none.
     */
    private static void slowPath(Allocator allocator, int sizeClassStep) {
        allocator.free(allocator.malloc(16L * (1 + sizeClassStep)));
    }

    /**
     * Raises the allocator's peak of committed bytes by about {@code mib} MiB and gives the memory back, so that the
     * slow paths after it commit below the peak (a commit past it purges the kept segments first: see the last test).
     */
    private static void raisePeak(Allocator allocator, int mib) {
        long[] blocks = new long[mib * 8 * 1024];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = allocator.malloc(128);
        }
        for (long block : blocks) {
            allocator.free(block);
        }
        allocator.collect(false);
    }

    private static Allocator allocator() {
        return Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ofMillis(DELAY_MILLIS)).build());
    }

    @Test
    void aReleasedSegmentWithinTheBudgetStaysResidentTenPurgeDelays() throws Exception {
        try (Allocator allocator = allocator()) {
            long own = allocator.malloc(16); // this thread's heap owns a segment: its slow paths take none
            raisePeak(allocator, 6);
            churnOneSegment(allocator); // 4 MiB: within a quarter segment
            long released = System.nanoTime();
            assertEquals(1, allocator.stats().liveSegments());
            assertEquals(1, allocator.stats().cachedSegments());
            long resident = Inspect.residentBytes(allocator);
            assertTrue(resident >= 4L << 20, "the cached segment is still resident: " + resident);

            Thread.sleep(3 * DELAY_MILLIS);
            slowPath(allocator, 1);
            long elapsed = (System.nanoTime() - released) / 1_000_000;
            long later = Inspect.residentBytes(allocator);
            if (elapsed < 9 * DELAY_MILLIS) { // else this machine stalled the test past the ten delays
                assertTrue(later >= 4L << 20, "still resident after " + elapsed + " ms: " + later + " bytes");
            }

            Thread.sleep(11 * DELAY_MILLIS);
            slowPath(allocator, 2);
            long afterPurge = Inspect.residentBytes(allocator);
            assertTrue(afterPurge < 1L << 20, "purged once ten delays passed: " + afterPurge + " bytes resident");
            assertEquals(1, allocator.stats().cachedSegments(), "purged, still cached");
            allocator.free(own);

            allocator.collect(true);
            assertEquals(0, allocator.stats().cachedSegments(), "collect unmaps the cache");
            allocator.validate();
        }
    }

    @Test
    void aReleasedSegmentPastTheBudgetIsPurgedAfterOneDelay() throws Exception {
        try (Allocator allocator = allocator()) {
            long own = allocator.malloc(16);
            raisePeak(allocator, 24);
            // 20 MiB: more than half of all the allocator has committed (the segment itself, and this thread's page)
            churnOneSegment(allocator, 20);
            assertEquals(1, allocator.stats().cachedSegments());
            long resident = Inspect.residentBytes(allocator);
            assertTrue(resident >= 20L << 20, "the cached segment is still resident: " + resident);

            Thread.sleep(3 * DELAY_MILLIS);
            slowPath(allocator, 1);
            long afterPurge = Inspect.residentBytes(allocator);
            assertTrue(afterPurge < 1L << 20, "purged after one delay: " + afterPurge + " bytes resident");
            allocator.free(own);
            allocator.validate();
        }
    }

    @Test
    void aKeptSegmentNeverRaisesThePeak() throws Exception {
        try (Allocator allocator = allocator()) {
            long own = allocator.malloc(16);
            churnOneSegment(allocator); // 4 MiB kept resident in the cache, within the budget
            long peak = allocator.stats().peakCommittedBytes();
            assertTrue(Inspect.residentBytes(allocator) >= 4L << 20);

            long[] blocks = new long[64 * 1024]; // 8 MiB of fresh pages in this thread's own segment
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = allocator.malloc(128);
                Blocks.fill(blocks[i], 128, i);
            }
            long raised = allocator.stats().peakCommittedBytes() - peak;
            // Committing past the peak purged the kept segment first: the peak rose by 8 MiB less its 4 MiB
            assertTrue(raised < 6L << 20, "the peak rose by " + raised + " bytes");
            assertTrue(raised >= 3L << 20, "the peak rose by " + raised + " bytes");
            for (int i = 0; i < blocks.length; i++) {
                Blocks.check(blocks[i], 128, i);
                allocator.free(blocks[i]);
            }
            allocator.free(own);
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
