package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A thread away for longer than the purge delay (descheduled on a host with more runnable threads than cores, blocked,
 * or allocating only on fast paths) mostly comes back to allocate again: its first slow path gives its retired pages a
 * delay from its return instead of purging the very pages it is about to reuse. Once per retirement only, so a thread
 * whose slow paths are always further apart than the delay still gives its memory back.
 */
class ReturningOwnerPurgeTest {

    private static final long BLOCK = 1024;
    private static final int BLOCKS = 4096; // 4 MiB: about 64 pages of 64 KiB

    private static Allocator allocator(Duration purgeDelay) {
        return Allocator.create(AllocatorConfig.builder().purgeDelay(purgeDelay).build());
    }

    private static long[] mallocAll(Heap heap, long seed) {
        long[] blocks = new long[BLOCKS];
        for (int i = 0; i < BLOCKS; i++) {
            blocks[i] = heap.malloc(BLOCK);
            Blocks.fill(blocks[i], BLOCK, seed + i);
        }
        return blocks;
    }

    private static void checkAndFreeAll(Heap heap, long[] blocks, long seed) {
        for (int i = 0; i < BLOCKS; i++) {
            Blocks.check(blocks[i], BLOCK, seed + i);
            heap.free(blocks[i]);
        }
    }

    @Test
    void aThreadBackFromAnAbsenceReusesItsRetiredPagesInsteadOfPurgingThem() {
        try (Allocator allocator = allocator(Duration.ofMillis(100))) {
            long[] seen = new long[3];
            OtherThread.run(() -> {
                Heap heap = allocator.heap();
                checkAndFreeAll(heap, mallocAll(heap, 1), 1); // about 60 pages retired, waiting out the delay
                seen[0] = allocator.stats().committedBytes();
                OtherThread.sleep(250); // away: every retired page is due
                long[] again = mallocAll(heap, 2);
                seen[1] = allocator.stats().purgedBytes();
                seen[2] = allocator.stats().committedBytes();
                checkAndFreeAll(heap, again, 2);
            });
            assertEquals(0, seen[1], "the returning thread purged pages and then faulted them in again");
            assertTrue(seen[2] <= seen[0], "pages committed anew: " + seen[0] + " -> " + seen[2]);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void aThreadWhoseSlowPathsAreFurtherApartThanTheDelayStillPurges() {
        try (Allocator allocator = allocator(Duration.ofMillis(50))) {
            long[] seen = new long[2];
            OtherThread.run(() -> {
                Heap heap = allocator.heap();
                checkAndFreeAll(heap, mallocAll(heap, 3), 3);
                long[] probes = new long[6];
                // One slow path every 150 ms (a block of a size class not used yet): the first after the absence
                // postpones, a later one finds the pages due again, and their segment quiet, and purges them (the
                // burst of retirements holds them for up to ten delays: RetiredPages, "A busy segment's pages
                // wait").
                for (int i = 0; i < probes.length && allocator.stats().purgedBytes() == 0; i++) {
                    OtherThread.sleep(150);
                    probes[i] = heap.malloc(2048L << i);
                    seen[1]++;
                }
                seen[0] = allocator.stats().purgedBytes();
                for (long p : probes) {
                    heap.free(p);
                }
            });
            assertTrue(seen[0] >= BLOCKS * BLOCK / 2, "purged " + seen[0] + " bytes after " + seen[1] + " returns");
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }
}
