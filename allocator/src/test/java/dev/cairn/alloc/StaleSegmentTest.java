package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cairn.segments.ProcessMemory;
import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A {@code MemorySegment} the allocator handed out outlives its block's free (FFM checks only its scope, which ends
 * with the allocator or the arena): reading it after the free is a use after free, but must never be a read of
 * unmapped memory, which kills the JVM. Whether memory is mapped is asked of the kernel ({@code mincore} through
 * {@link ProcessMemory#residentBytes}, which refuses a range that is not entirely mapped), before any read, so a
 * regression fails here instead of crashing the test JVM.
 */
class StaleSegmentTest {

    private static final long PAGE = 4096;

    private static Allocator allocator() {
        return Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ZERO).build());
    }

    private static void assertMapped(MemorySegment segment) {
        long start = segment.address() & -PAGE;
        long end = (segment.address() + Math.max(segment.byteSize(), 1) + PAGE - 1) & -PAGE;
        assertDoesNotThrow(() -> ProcessMemory.residentBytes(start, end - start),
                "the memory of a freed MemorySegment was unmapped");
    }

    @Test
    void aFreedSmallSegmentStaysMappedAfterItsSegmentIsReleased() {
        try (Allocator allocator = allocator()) {
            MemorySegment stale = allocator.allocate(64, 16);
            stale.set(ValueLayout.JAVA_LONG, 0, 42);
            allocator.free(stale);
            allocator.collect(true); // the segment is empty now: released, and the cache trimmed
            assertEquals(0, allocator.stats().liveSegments(), "the test needs the segment given back");
            assertMapped(stale);
            stale.get(ValueLayout.JAVA_LONG, 0); // a use after free: any value, but no crash
            allocator.validate();
        }
    }

    @Test
    void memoryAStaleSegmentWroteAfterThePurgeGoesBackAtTheNextCollect() {
        try (Allocator allocator = allocator()) {
            MemorySegment stale = allocator.allocate(64 << 10, 16); // a medium block, a whole number of pages
            allocator.free(stale);
            allocator.collect(true); // released, kept mapped, purged
            assertEquals(0, allocator.stats().liveSegments(), "the test needs the segment given back");
            long purged = dev.cairn.alloc.internal.Inspect.residentBytes(allocator);
            stale.fill((byte) 7); // a use after free that makes 64 KiB resident again
            assertEquals(purged + (64 << 10), dev.cairn.alloc.internal.Inspect.residentBytes(allocator));
            allocator.collect(true);
            assertEquals(purged, dev.cairn.alloc.internal.Inspect.residentBytes(allocator),
                    "collect() left the pages a stale segment wrote after the purge in RAM");
        }
    }

    @Test
    void aFreedHugeSegmentStaysMappedAndIsReused() {
        try (Allocator allocator = allocator()) {
            MemorySegment stale = allocator.allocate(40L << 20, 16);
            allocator.free(stale);
            allocator.collect(true);
            assertMapped(stale);
            stale.get(ValueLayout.JAVA_BYTE, stale.byteSize() - 1);
            MemorySegment next = allocator.allocate(20L << 20, 16); // smaller: fits the retained range
            next.fill((byte) 7);
            allocator.free(next);
            allocator.validate();
        }
    }

    @Test
    void anArenaBlockFreedByHandStaysMappedUntilTheArenaCloses() {
        try (Allocator allocator = allocator(); Arena arena = allocator.newArena()) {
            MemorySegment stale = arena.allocate(8L << 20); // huge: its own segment, given back at its free
            allocator.free(stale);
            allocator.collect(true);
            assertMapped(stale);
            stale.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    @Test
    void keptSegmentsDoNotCountAgainstTheCommitLimit() {
        // 40 MiB kept mapped after its free, then 70 MiB that it cannot hold: 110 MiB committed in the space, of
        // which 40 are purged and idle, under a limit of 96 MiB
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().commitLimit(96L << 20).build())) {
            MemorySegment stale = allocator.allocate(40L << 20, 16);
            allocator.free(stale);
            MemorySegment next = allocator.allocate(70L << 20, 16);
            next.set(ValueLayout.JAVA_LONG, next.byteSize() - 8, 1);
            assertMapped(stale);
            allocator.free(next);
            assertThrows(OutOfMemoryError.class, () -> allocator.allocate(100L << 20, 16)); // the limit holds
            allocator.validate();
        }
    }

    @Test
    void aFreedHugeBlockStaysMappedUntilCollectAndIsReused() {
        // a checked free racing with the release of a huge block (a double free from two threads) reads the freed
        // segment's header: it must still be mapped then; a later huge block of about the same size takes it back
        try (Allocator allocator = allocator()) {
            long block = allocator.malloc(40L << 20);
            allocator.free(block);
            assertDoesNotThrow(() -> ProcessMemory.residentBytes(block & -PAGE, PAGE));
            assertThrows(IllegalArgumentException.class, () -> allocator.free(block)); // the double free, refused
            long again = allocator.malloc(40L << 20);
            assertEquals(block, again, "the released huge segment was not reused");
            Raw.putLong(again + (40L << 20) - 8, 1);
            allocator.free(again);
            allocator.validate();
        }
    }

    @Test
    void memoryNeverHandedOutAsASegmentIsStillUnmapped() {
        // the control: a huge block that only malloc saw goes back to the OS at collect()
        try (Allocator allocator = allocator()) {
            long block = allocator.malloc(40L << 20);
            allocator.free(block);
            allocator.collect(true);
            assertThrows(IllegalArgumentException.class, () -> ProcessMemory.residentBytes(block & -PAGE, PAGE));
        }
    }
}
