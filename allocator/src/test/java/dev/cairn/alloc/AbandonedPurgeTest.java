package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.internal.Inspect;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pages emptied when a segment changes hands (abandoned by a released or dead heap, swept, adopted) keep their memory
 * while the segment is pooled for ten purge delays (a live heap's retired pages wait one), up to the pool's budget of
 * a quarter segment, so an adopter reuses them without faulting them in again; an adopter gets one purge delay from
 * the adoption. Once the delay has passed they are purged by whoever holds the segment: the pool, from another
 * thread's slow path, or the adopting heap (back from more than a delay away, one delay after its return). {@code collect()} purges them at once, and a zero purge delay purges at
 * abandon.
 */
class AbandonedPurgeTest {

    private static final long BLOCK = 1024;
    private static final int BLOCKS = 2048; // 2 MiB: about 32 pages of 64 KiB

    private static Allocator allocator(Duration purgeDelay) {
        return Allocator.create(AllocatorConfig.builder().purgeDelay(purgeDelay).build());
    }

    /**
     * On a fresh thread: allocates {@link #BLOCKS} blocks of {@link #BLOCK} bytes and one small block, frees the
     * large ones, releases the heap, and returns the small block, which keeps the segment pooled.
     */
    private static long fillFreeAndRelease(Allocator allocator) throws InterruptedException {
        long[] kept = new long[1];
        OtherThread.run(() -> {
            kept[0] = allocator.malloc(24);
            Blocks.fill(kept[0], 24, 7);
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < BLOCKS; i++) {
                long block = allocator.malloc(BLOCK);
                Blocks.fill(block, BLOCK, i);
                blocks.add(block);
            }
            for (long block : blocks) {
                allocator.free(block);
            }
            allocator.releaseCurrentThread();
        });
        return kept[0];
    }


    /** Mallocs one block of each size from {@code from} to {@code to} (new size classes: slow paths) into {@code blocks}. */
    private static int mallocNewSizeClasses(Allocator allocator, long from, long to, List<Long> blocks) {
        int sizes = 0;
        for (long size = from; size <= to; size += size / 4) {
            blocks.add(allocator.malloc(size));
            sizes++;
        }
        return sizes;
    }

    /** Sleeps until {@code millis} after {@code since} (a nanoTime), at once if that has passed. */
    private static void sleepUntil(long since, long millis) throws InterruptedException {
        Thread.sleep(Math.max(0, millis - (System.nanoTime() - since) / 1_000_000));
    }

    /** Checks the kept block, frees it, this thread's own block and {@code blocks}, and validates. */
    private static void freeAllAndValidate(Allocator allocator, long kept, long own, List<Long> blocks) {
        Blocks.check(kept, 24, 7);
        for (long block : blocks) {
            allocator.free(block);
        }
        allocator.free(own);
        allocator.free(kept);
        allocator.validate();
    }

    @Test
    void pagesEmptiedBeforeAbandonKeepTheirMemoryUntilCollect() throws InterruptedException {
        try (Allocator allocator = allocator(Duration.ofHours(1))) {
            long kept = fillFreeAndRelease(allocator);
            AllocatorStats pooled = allocator.stats();
            assertEquals(1, pooled.abandonedSegments(), "the kept block holds its segment in the pool");
            assertEquals(0, pooled.purgedBytes(), "nothing purged before its deadline");
            assertTrue(pooled.committedBytes() >= BLOCKS * BLOCK,
                    "the emptied pages stay committed: " + pooled.committedBytes());

            allocator.collect(false);
            AllocatorStats collected = allocator.stats();
            assertTrue(collected.purgedBytes() >= BLOCKS * BLOCK * 3 / 4,
                    "collect() purges them at once: " + collected.purgedBytes());
            assertTrue(pooled.committedBytes() - collected.committedBytes() >= BLOCKS * BLOCK * 3 / 4,
                    pooled.committedBytes() + " -> " + collected.committedBytes());
            assertEquals(1, collected.abandonedSegments());
            Blocks.check(kept, 24, 7);
            allocator.validate();
            allocator.free(kept);
            allocator.validate();
        }
    }

    @Test
    void aZeroPurgeDelayPurgesThemAtAbandon() throws InterruptedException {
        try (Allocator allocator = allocator(Duration.ZERO)) {
            long kept = fillFreeAndRelease(allocator);
            AllocatorStats pooled = allocator.stats();
            assertEquals(1, pooled.abandonedSegments());
            assertTrue(pooled.purgedBytes() >= BLOCKS * BLOCK * 3 / 4, "purged at once: " + pooled.purgedBytes());
            assertTrue(pooled.committedBytes() < BLOCKS * BLOCK / 2, "committed " + pooled.committedBytes());
            allocator.free(kept);
            allocator.validate();
        }
    }

    @Test
    void anotherThreadsSlowPathPurgesAPooledSegmentOnceTenDelaysHavePassed() throws InterruptedException {
        try (Allocator allocator = allocator(Duration.ofMillis(40))) {
            long own = allocator.malloc(64); // this thread's own segment: its slow paths need not adopt
            long kept = fillFreeAndRelease(allocator);
            long released = System.nanoTime();
            AllocatorStats pooled = allocator.stats();
            assertEquals(1, pooled.abandonedSegments());
            assertTrue(pooled.committedBytes() >= BLOCKS * BLOCK, "committed " + pooled.committedBytes());

            Thread.sleep(100); // two and a half purge delays: a live heap's retired pages would be purged by now
            List<Long> blocks = new ArrayList<>();
            mallocNewSizeClasses(allocator, 2048, 8 * 1024, blocks);
            if (System.nanoTime() - released < 300_000_000L) { // else this thread stalled: nothing to conclude
                assertEquals(0, allocator.stats().purgedBytes(), "purged before ten purge delays");
            }

            sleepUntil(released, 420); // past ten purge delays
            int sizes = mallocNewSizeClasses(allocator, 10 * 1024, 64 * 1024, blocks);
            AllocatorStats after = allocator.stats();
            assertEquals(1, after.abandonedSegments(),
                    "still pooled, not adopted: " + Inspect.describeSegments(allocator));
            assertTrue(after.purgedBytes() >= BLOCKS * BLOCK * 3 / 4,
                    "purged by one of " + sizes + " slow paths: " + after.purgedBytes());
            freeAllAndValidate(allocator, kept, own, blocks);
        }
    }

    @Test
    void pagesBeyondThePoolsBudgetArePurgedAtTheirOwnDeadline() throws InterruptedException {
        // 4 MiB segments: the pool keeps at most a quarter segment, 1 MiB, past the pages' own deadlines.
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(4L << 20)
                .purgeDelay(Duration.ofMillis(40)).build())) {
            long own = allocator.malloc(64); // this thread's own segment: its slow paths need not adopt
            long kept = fillFreeAndRelease(allocator);
            long released = System.nanoTime();
            assertEquals(1, allocator.stats().abandonedSegments());

            Thread.sleep(100); // the pages' own deadlines have passed
            List<Long> blocks = new ArrayList<>();
            mallocNewSizeClasses(allocator, 2048, 8 * 1024, blocks);
            long purged = allocator.stats().purgedBytes();
            assertTrue(purged >= BLOCKS * BLOCK / 4, "the pages past the budget were purged: " + purged);
            if (System.nanoTime() - released < 300_000_000L) { // else this thread stalled: nothing to conclude
                assertTrue(purged <= BLOCKS * BLOCK * 3 / 4, "the budget's pages were kept: " + purged + " purged");
            }

            sleepUntil(released, 420); // past ten purge delays
            mallocNewSizeClasses(allocator, 10 * 1024, 64 * 1024, blocks);
            assertTrue(allocator.stats().purgedBytes() >= BLOCKS * BLOCK * 3 / 4,
                    "all purged after ten delays: " + allocator.stats().purgedBytes());
            assertEquals(1, allocator.stats().abandonedSegments(), "still pooled, not adopted");
            freeAllAndValidate(allocator, kept, own, blocks);
        }
    }

    @Test
    void anAdopterReusesThePendingPagesAndPurgesThoseItLeavesUnused() throws InterruptedException {
        try (Allocator allocator = allocator(Duration.ofMillis(50))) {
            long kept = fillFreeAndRelease(allocator);
            long committedPooled = allocator.stats().committedBytes();
            long[] adopted = new long[2];
            OtherThread.run(() -> {
                // No segment of its own yet: its first slow paths adopt the pooled one and reuse its pages.
                List<Long> blocks = new ArrayList<>();
                for (int i = 0; i < BLOCKS / 4; i++) {
                    long block = allocator.malloc(BLOCK);
                    Blocks.fill(block, BLOCK, i);
                    blocks.add(block);
                }
                AllocatorStats reused = allocator.stats();
                adopted[0] = reused.segmentsReclaimed();
                assertEquals(0, reused.purgedBytes(), "the pending pages were reused, not purged");
                assertTrue(reused.committedBytes() <= committedPooled,
                        "no page committed anew: " + committedPooled + " -> " + reused.committedBytes());
                try {
                    Thread.sleep(120);
                    // Back after more than a delay: its first slow path gives the waiting pages a delay from now
                    // (HeapImpl.purgeExpired), in case it is back to reuse them.
                    mallocNewSizeClasses(allocator, 2048, 8 * 1024, blocks);
                    assertEquals(0, allocator.stats().purgedBytes(), "postponed once on return, not purged");
                    // Past ten delays after its last reuse of a page of the segment: reuses in a burst hold the
                    // segment's other retired pages that long (RetiredPages, "A busy segment's pages wait").
                    Thread.sleep(650);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                mallocNewSizeClasses(allocator, 10 * 1024, 64 * 1024, blocks); // slow paths of the adopter
                adopted[1] = allocator.stats().purgedBytes();
                for (int i = 0; i < blocks.size(); i++) {
                    if (i < BLOCKS / 4) {
                        Blocks.check(blocks.get(i), BLOCK, i);
                    }
                    allocator.free(blocks.get(i));
                }
            });
            assertEquals(1, adopted[0], "the thread adopted the pooled segment");
            assertTrue(adopted[1] >= BLOCKS * BLOCK / 2,
                    "the adopter's slow path purged the pages it left unused: " + adopted[1]);
            Blocks.check(kept, 24, 7);
            allocator.free(kept);
            allocator.validate();
        }
    }

    @Test
    void anAdopterGetsAWholePurgeDelayForPagesThatWaitedInThePool() throws InterruptedException {
        try (Allocator allocator = allocator(Duration.ofMillis(40))) {
            long kept = fillFreeAndRelease(allocator);
            Thread.sleep(100); // the emptied pages' own deadline has passed; the pool's ten delays have not
            long[] seen = new long[3];
            OtherThread.run(() -> {
                long start = System.nanoTime();
                List<Long> blocks = new ArrayList<>();
                blocks.add(allocator.malloc(BLOCK)); // no segment of its own: adopts the pooled one
                mallocNewSizeClasses(allocator, 2048, 8 * 1024, blocks); // its slow paths, purges due included
                AllocatorStats stats = allocator.stats();
                seen[0] = stats.segmentsReclaimed();
                seen[1] = stats.purgedBytes();
                seen[2] = System.nanoTime() - start;
                for (long block : blocks) {
                    allocator.free(block);
                }
            });
            assertEquals(1, seen[0], "the thread adopted the pooled segment");
            if (seen[2] < 30_000_000L) { // else this thread stalled past the adopter's delay: nothing to conclude
                assertEquals(0, seen[1], "the adopter's slow paths purged pages it had just adopted");
            }
            Blocks.check(kept, 24, 7);
            allocator.free(kept);
            allocator.validate();
        }
    }
}
