package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.segments.raw.Raw;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Where pages go in a segment: the page search is first-fit ({@code SEG_NEXT_FREE_HINT}), and a settle lowers the
 * segment's page end ({@code SEG_PAGE_END}) past the pages it gave up, so the walks of a thread turnover stay short.
 */
class PageSlotsTest {

    private static final long BLOCK = 1024; // a small size class: 64 KiB pages
    private static final int PAGE_SHIFT = 16;

    /** Blocks of {@link #BLOCK} bytes until {@code pages} pages hold them, grouped by page slot (one segment). */
    private static TreeMap<Integer, List<Long>> fillPages(Allocator allocator, int pages) {
        TreeMap<Integer, List<Long>> bySlot = new TreeMap<>();
        long segment = 0;
        while (bySlot.size() < pages || bySlot.lastEntry().getValue().size() < 2) {
            long block = allocator.malloc(BLOCK);
            if (segment == 0) {
                segment = block & -allocator.config().segmentSize();
            }
            assertEquals(segment, block & -allocator.config().segmentSize(), "one segment holds every page");
            bySlot.computeIfAbsent((int) ((block - segment) >>> PAGE_SHIFT), slot -> new ArrayList<>()).add(block);
        }
        return bySlot;
    }

    @Test
    void aFreshPageTakesTheLowestUnusedSlot() throws Exception {
        // No purge delay: the page given up is purged at once, so no list of retired pages holds it and the page
        // search alone finds it.
        AllocatorConfig config = AllocatorConfig.builder().purgeDelay(Duration.ZERO).build();
        try (Allocator allocator = Allocator.create(config)) {
            List<TreeMap<Integer, List<Long>>> filled = new ArrayList<>();
            Thread filler = Thread.ofPlatform().start(() -> filled.add(fillPages(allocator, 4)));
            filler.join(); // ends without releasing its heap
            TreeMap<Integer, List<Long>> bySlot = filled.get(0);
            long segment = bySlot.firstEntry().getValue().get(0) & -allocator.config().segmentSize();
            int freed = bySlot.higherKey(bySlot.firstKey()); // the second page
            bySlot.get(freed).forEach(allocator::free); // remote frees: the ended heap never collects them
            allocator.collect(false); // finds the ended heap and abandons its segment: the second page is given up
            long[] other = new long[1];
            Thread.ofPlatform().start(() -> other[0] = allocator.malloc(4 * BLOCK)).join(); // adopts the segment
            assertEquals(segment, other[0] & -allocator.config().segmentSize(), "the adopter took the segment");
            assertEquals(freed, (int) ((other[0] - segment) >>> PAGE_SHIFT),
                    "the fresh page takes the lowest unused slot, not the one after the last page taken");
            allocator.validate();
        }
    }

    @Test
    void aSettleLowersThePageEndPastThePagesItGaveUp() throws Exception {
        AllocatorConfig config = AllocatorConfig.builder().purgeDelay(Duration.ZERO).build();
        try (Allocator allocator = Allocator.create(config)) {
            long[] segmentAndEnds = new long[4];
            Thread owner = Thread.ofPlatform().start(() -> {
                TreeMap<Integer, List<Long>> bySlot = fillPages(allocator, 6);
                long segment = bySlot.firstEntry().getValue().get(0) & -allocator.config().segmentSize();
                segmentAndEnds[0] = segment;
                segmentAndEnds[1] = Raw.getInt(segment + SEG_PAGE_END);
                int kept = 0;
                for (var entry : bySlot.entrySet()) {
                    if (kept++ < 3) {
                        continue; // the first three pages keep their blocks
                    }
                    entry.getValue().forEach(allocator::free);
                }
                segmentAndEnds[3] = bySlot.lastKey() + 1;
                segmentAndEnds[2] = new ArrayList<>(bySlot.keySet()).get(3); // the first page given up
                allocator.releaseCurrentThread(); // abandons the segment: a settle
            });
            owner.join();
            long segment = segmentAndEnds[0];
            assertEquals(segmentAndEnds[3], segmentAndEnds[1], "formatting raised the end to one past the last page");
            assertEquals(segmentAndEnds[2], Raw.getInt(segment + SEG_PAGE_END),
                    "the settle lowered the end past the three pages given up");
            assertTrue(allocator.stats().abandonedSegments() >= 1, "the segment waits in the abandoned pool");
            allocator.validate();
        }
    }
}
