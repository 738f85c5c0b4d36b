package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * When a bin's current page runs out and the next page of its queue has free blocks, that page serves the
 * following mallocs on the fast path: one slow path per page switch, not one per malloc. Counted with
 * {@link AllocatorStats#slowPathCalls()}, so the test does not depend on the machine's speed.
 */
class SlowPathRateTest {

    private static final int SIZE = 1000;

    @ParameterizedTest(name = "checked={0}")
    @ValueSource(booleans = {true, false})
    void thePageAfterAFullOneServesTheFastPath(boolean checked) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            Heap heap = allocator.heap();
            // Two pages of the bin, both filled: then half of each freed. The first page's frees take it out of the
            // full queue and make it current; the second page's land on its local list behind it.
            int perPage = blocksPerPage();
            long[] first = new long[perPage];
            long[] second = new long[perPage];
            for (int i = 0; i < perPage; i++) {
                first[i] = heap.malloc(SIZE);
                Blocks.fill(first[i], SIZE, i);
            }
            for (int i = 0; i < perPage; i++) {
                second[i] = heap.malloc(SIZE);
                Blocks.fill(second[i], SIZE, perPage + i);
            }
            int half = perPage / 2;
            for (int i = 0; i < half; i++) {
                heap.free(first[i]);
                heap.free(second[i]);
            }
            long before = allocator.stats().slowPathCalls();
            long[] again = new long[2 * half];
            for (int i = 0; i < again.length; i++) { // the current page's half, then the other page's
                again[i] = heap.malloc(SIZE);
                Blocks.fill(again[i], SIZE, -i);
            }
            long slowPaths = allocator.stats().slowPathCalls() - before;
            // One switch to the second page. With the direct table left on the full first page, each of the second
            // page's blocks cost a slow path (32 here).
            assertTrue(slowPaths <= 2, slowPaths + " slow paths for " + again.length + " mallocs");
            for (int i = half; i < perPage; i++) {
                Blocks.check(first[i], SIZE, i);
                Blocks.check(second[i], SIZE, perPage + i);
                heap.free(first[i]);
                heap.free(second[i]);
            }
            for (int i = 0; i < again.length; i++) {
                Blocks.check(again[i], SIZE, -i);
                heap.free(again[i]);
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    /**
     * Random replacement of 3,000 blocks of 100-200 bytes (about ten pages of a few bins, a tenth of their room free):
     * a free into a full page must not displace a current page that still has blocks, or the malloc after next
     * takes the slow path again (three times the page switches, measured).
     */
    @ParameterizedTest(name = "seed={0}")
    @ValueSource(longs = {0x51057L, 42L, 7_000_001L})
    void freesIntoFullPagesDoNotDisplaceACurrentPageWithBlocks(long seed) {
        System.out.println("SlowPathRateTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long[] blocks = new long[3_000];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = heap.malloc(100 + random.nextInt(101));
            }
            int replacements = 50_000;
            long before = allocator.stats().slowPathCalls();
            for (int step = 0; step < replacements; step++) {
                int slot = random.nextInt(blocks.length);
                heap.free(blocks[slot]);
                blocks[slot] = heap.malloc(100 + random.nextInt(101));
            }
            long slowPaths = allocator.stats().slowPathCalls() - before;
            assertTrue(slowPaths < replacements / 25,
                    slowPaths + " slow paths for " + replacements + " mallocs (seed " + seed + ")");
            for (long block : blocks) {
                heap.free(block);
            }
            allocator.validate();
        }
    }

    /**
     * Larson's shape on one thread: 20,000 blocks of 8-1000 bytes (a dozen pages per bin) replaced at random. A page
     * that gets room again rejoins its queue at the back and gathers frees while the pages ahead serve; queued right
     * behind the current page it was taken next with a block or two, and a quarter of all mallocs took the slow path.
     */
    @ParameterizedTest(name = "seed={0}")
    @ValueSource(longs = {0x1A450L, 99L})
    void pagesThatGetRoomAgainWaitAtTheBackOfTheQueue(long seed) {
        System.out.println("SlowPathRateTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long[] blocks = new long[20_000];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = heap.malloc(8 + random.nextInt(993));
            }
            int replacements = 200_000;
            long before = allocator.stats().slowPathCalls();
            for (int step = 0; step < replacements; step++) {
                int slot = random.nextInt(blocks.length);
                heap.free(blocks[slot]);
                blocks[slot] = heap.malloc(8 + random.nextInt(993));
            }
            long slowPaths = allocator.stats().slowPathCalls() - before;
            System.out.println("  " + slowPaths + " slow paths for " + replacements + " mallocs");
            assertTrue(slowPaths < replacements / 8,
                    slowPaths + " slow paths for " + replacements + " mallocs (seed " + seed + ")");
            for (long block : blocks) {
                heap.free(block);
            }
            allocator.validate();
        }
    }

    /**
     * Filling pages takes a slow path per doubling of what a page has carved, not one per ~4 KiB: 10,000 blocks
     * of 16-1024 bytes (about 5 MiB, the batch workload's round) take about 520 slow paths; carving 4 KiB at a time
     * took about 1,490.
     */
    @ParameterizedTest(name = "checked={0}")
    @ValueSource(booleans = {true, false})
    void fillingPagesTakesASlowPathPerDoubling(boolean checked) {
        long seed = 7;
        System.out.println("SlowPathRateTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            Heap heap = allocator.heap();
            long[] blocks = new long[10_000];
            long before = allocator.stats().slowPathCalls();
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = heap.malloc(16 + random.nextInt(1009));
            }
            long slowPaths = allocator.stats().slowPathCalls() - before;
            assertTrue(slowPaths < 700, slowPaths + " slow paths for " + blocks.length + " mallocs (seed " + seed + ")");
            for (long block : blocks) {
                heap.free(block);
            }
            allocator.validate();
        }
    }

    /** Blocks of {@link #SIZE} bytes one page holds, found by allocating until a second page appears. */
    private static int blocksPerPage() {
        try (Allocator probe = Allocator.create()) {
            Heap probeHeap = probe.heap();
            probeHeap.malloc(SIZE);
            long onePage = probe.stats().pages();
            for (int count = 1; ; count++) {
                probeHeap.malloc(SIZE);
                if (probe.stats().pages() > onePage) {
                    return count;
                }
            }
        }
    }
}
