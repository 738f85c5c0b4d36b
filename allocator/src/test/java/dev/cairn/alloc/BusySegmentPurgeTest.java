package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A segment that keeps retiring pages, or taking its retired pages back, keeps its retired pages committed past their
 * own deadlines: they are what its next fresh pages reuse, and purged in the middle of the churn they were faulted in
 * again a moment later. Once the segment goes quiet they are purged, at most ten purge delays after its last
 * retirement or reuse. Each case fails with its half of the rule removed.
 */
class BusySegmentPurgeTest {

    private static final long DELAY_MILLIS = 20;
    private static final long BLOCK = 1024;
    private static final int BLOCKS = 8192; // 8 MiB of 1 KiB blocks: about 130 pages of 64 KiB
    private static final long CHURN_BLOCK = 8192; // 8 per page: CHURN_BLOCKS fill two pages of their own bin
    private static final int CHURN_BLOCKS = 16;

    @Test
    void retiredPagesOfASegmentThatKeepsRetiringWaitUntilItGoesQuiet() {
        AllocatorConfig config = AllocatorConfig.builder().purgeDelay(Duration.ofMillis(DELAY_MILLIS)).build();
        try (Allocator allocator = Allocator.create(config)) {
            long[] seen = new long[4];
            OtherThread.run(() -> {
                Heap heap = allocator.heap();
                long[] blocks = new long[BLOCKS];
                for (int i = 0; i < BLOCKS; i++) {
                    blocks[i] = heap.malloc(BLOCK);
                    Blocks.fill(blocks[i], BLOCK, i);
                }
                for (int i = 0; i < BLOCKS; i++) {
                    Blocks.check(blocks[i], BLOCK, i);
                    heap.free(blocks[i]);
                }
                seen[0] = allocator.stats().committedBytes(); // about 130 pages retired
                // Busy for twenty-five delays, past every page's own deadline and past ten delays after the burst:
                // each round fills two pages of another bin and empties them, so the second one retires (the first
                // stays as its bin's page) and is taken back by the next round, the newest retired page first. The
                // rounds' slow paths find the burst's pages due by their own deadlines.
                long[] churn = new long[CHURN_BLOCKS];
                long end = System.nanoTime() + 25 * DELAY_MILLIS * 1_000_000;
                for (int round = 0; System.nanoTime() < end; round++) {
                    for (int i = 0; i < CHURN_BLOCKS; i++) {
                        churn[i] = heap.malloc(CHURN_BLOCK);
                        Blocks.fill(churn[i], CHURN_BLOCK, round + i);
                    }
                    for (int i = 0; i < CHURN_BLOCKS; i++) {
                        Blocks.check(churn[i], CHURN_BLOCK, round + i);
                        heap.free(churn[i]);
                    }
                    OtherThread.sleep(1);
                }
                seen[1] = allocator.stats().committedBytes();
                OtherThread.sleep(15 * DELAY_MILLIS); // quiet now: past ten delays after the last retirement
                allocator.collect(false); // what is due, and gates passed: the burst's pages
                seen[2] = allocator.stats().committedBytes();
                seen[3] = allocator.stats().purgedBytes();
            });
            assertTrue(seen[1] >= seen[0] - (1L << 20), "pages purged while their segment kept retiring: committed "
                    + seen[0] + " -> " + seen[1]);
            assertTrue(seen[1] - seen[2] >= 6L << 20, "pages not purged once the segment was quiet: committed "
                    + seen[1] + " -> " + seen[2] + ", purged " + seen[3]);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void retiredPagesOfASegmentThatKeepsReusingThemWaitUntilItGoesQuiet() {
        long delayMillis = 100; // a step of 10 ms: the rounds below (a 5 ms sleep) stay under it on a slow machine
        AllocatorConfig config = AllocatorConfig.builder().purgeDelay(Duration.ofMillis(delayMillis)).build();
        try (Allocator allocator = Allocator.create(config)) {
            long[] seen = new long[3];
            OtherThread.run(() -> {
                Heap heap = allocator.heap();
                int burst = 4 * BLOCKS; // 32 MiB: about 510 pages retired at once, their gate ten delays ahead
                long[] blocks = new long[burst];
                for (int i = 0; i < burst; i++) {
                    blocks[i] = heap.malloc(BLOCK);
                    Blocks.fill(blocks[i], BLOCK, i);
                }
                for (int i = 0; i < burst; i++) {
                    Blocks.check(blocks[i], BLOCK, i);
                    if (i % 4096 != 0) { // one block in 4,096 stays, so no segment empties and goes back whole
                        heap.free(blocks[i]);
                    }
                }
                // Fifteen delays of reuse and no retirement: each round keeps a page's worth of blocks, so it takes
                // one retired page back (the newest first) and retires none; about 250 of the 510 are taken.
                int perRound = (int) ((64 << 10) / BLOCK);
                java.util.List<Long> kept = new java.util.ArrayList<>();
                long end = System.nanoTime() + 15 * delayMillis * 1_000_000;
                while (System.nanoTime() < end) {
                    for (int i = 0; i < perRound; i++) {
                        long p = heap.malloc(BLOCK);
                        Blocks.fill(p, BLOCK, kept.size());
                        kept.add(p);
                    }
                    OtherThread.sleep(5);
                }
                seen[0] = allocator.stats().purgedBytes();
                OtherThread.sleep(15 * delayMillis); // quiet now: past ten delays after the last reuse
                allocator.collect(false);
                seen[1] = allocator.stats().purgedBytes();
                seen[2] = kept.size();
                for (int i = 0; i < burst; i += 4096) {
                    Blocks.check(blocks[i], BLOCK, i);
                    heap.free(blocks[i]);
                }
                for (int i = 0; i < kept.size(); i++) {
                    Blocks.check(kept.get(i), BLOCK, i);
                    heap.free(kept.get(i));
                }
            });
            assertTrue(seen[0] < 1L << 20, "retired pages purged while their segment kept reusing pages: "
                    + seen[0] + " bytes, " + seen[2] + " blocks kept");
            assertTrue(seen[1] >= 4L << 20, "retired pages not purged once the segment was quiet: " + seen[1]
                    + " bytes, " + seen[2] + " blocks kept");
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }
}
