package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.raw.Raw;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The page pool (internal.PagePool): a thread heap gives full pages beyond two per size class to the allocator's
 * pool, and a heap that needs room adopts one that other threads have freed into, so the blocks an idle thread's
 * pages get back are reused by the threads that are still working (larson's main thread fills every slot and then
 * only waits). It is on by default ({@code AllocatorConfig.pagePool}); the first test fails without it.
 */
class PagePoolTest {

    private static final long MiB = 1 << 20;

    /**
     * A thread fills 16 MiB of blocks and then waits without releasing its heap; a worker frees every one of them
     * and allocates as much again, three times over. Without the pool the worker mapped 16 MiB of pages of its own
     * each time while the idle thread's pages held the freed blocks; with it, the worker reuses them. Contents are
     * checked, the heap validated with the filler still idle, and the walk sees exactly the worker's blocks.
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {true, false})
    void aWorkerReusesThePagesAnIdleThreadFilled(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).pagePool(true).build())) {
            int count = 32 * 1024;
            long[] blocks = new long[count];
            int[] sizes = new int[count];
            IdleFiller filler = new IdleFiller(() -> {
                SplittableRandom random = new SplittableRandom(1);
                for (int i = 0; i < count; i++) {
                    sizes[i] = 16 + random.nextInt(1009);
                    blocks[i] = allocator.malloc(sizes[i]);
                    Raw.putByte(blocks[i] + sizes[i] - 1, (byte) i);
                }
            });
            filler.awaitFilled(); // idle from here on, heap kept: no slow path
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long fillBytes = allocator.stats().allocatedBytes();
            Thread.sleep(20); // the filler is idle now (no slow path for more than the purge delay)
            Thread worker = Thread.ofPlatform().start(() -> {
                try {
                    for (int round = 0; round < 3; round++) {
                        for (int i = 0; i < count; i++) {
                            assertEquals((byte) (i + round), Raw.getByte(blocks[i] + sizes[i] - 1), "block " + i);
                            allocator.free(blocks[i]);
                            blocks[i] = allocator.malloc(sizes[i]);
                            Raw.putByte(blocks[i] + sizes[i] - 1, (byte) (i + round + 1));
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            worker.join();
            assertNull(failure.get());
            AllocatorStats stats = allocator.stats();
            allocator.validate();
            // The stats count the pool's traffic: the filler gave pages, the worker adopted them.
            assertTrue(stats.pagesGivenToPool() > 0 && stats.pagesAdoptedFromPool() > 0, stats.toJson());
            assertTrue(stats.pagesAdoptedFromPool() + stats.pagesReclaimedOnFree() + stats.pooledPages()
                    <= stats.pagesGivenToPool(), "each page given leaves the pool once at most: " + stats.toJson());
            assertTrue(stats.toJson().contains("\"pagesAdoptedFromPool\":" + stats.pagesAdoptedFromPool()));
            // The live data never grew; the worker's own pages would have doubled the footprint each round.
            assertTrue(stats.peakCommittedBytes() < 1.6 * fillBytes + 4 * MiB, "peak committed "
                    + stats.peakCommittedBytes() / MiB + " MiB for " + fillBytes / MiB + " MiB of live data");
            Set<Long> walked = new HashSet<>();
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> walked.add(address));
            Set<Long> live = new HashSet<>();
            for (long block : blocks) {
                live.add(block);
            }
            assertEquals(live, walked, "the walk sees exactly the live blocks");
            filler.close();
            for (long block : blocks) {
                allocator.free(block);
            }
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    /**
     * Virtual threads' shared heaps leave the pool alone: they never give a page back, so a platform thread that
     * lends its pages and then resumes would carve new ones each time (larson-virtual's peak nearly doubled). Here
     * the filler's pages are pooled and idle, and virtual threads free and replace its blocks: none is adopted.
     */
    @org.junit.jupiter.api.Test
    void virtualThreadsDoNotAdoptPooledPages() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().pagePool(true).build())) {
            int count = 16 * 1024;
            long[] blocks = new long[count];
            IdleFiller filler = new IdleFiller(() -> {
                for (int i = 0; i < count; i++) {
                    blocks[i] = allocator.malloc(128);
                }
            });
            filler.awaitFilled(); // idle with its heap from here on: its pages stay pooled, others' to adopt
            assertTrue(blocks[count - 1] != 0, "the filler allocated every block");
            assertTrue(allocator.stats().pagesGivenToPool() > 0, "the filler gave its full pages");
            Thread.sleep(20); // idle past the pool's 1 ms
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int first = t * count / 4;
                workers.add(Thread.ofVirtual().start(() -> {
                    for (int i = first; i < first + count / 4; i++) {
                        allocator.free(blocks[i]);
                        blocks[i] = allocator.malloc(128);
                        Raw.putLong(blocks[i], i);
                    }
                }));
            }
            for (Thread worker : workers) {
                worker.join();
            }
            allocator.validate();
            assertEquals(0, allocator.stats().pagesAdoptedFromPool(), allocator.stats().toJson());
            filler.close();
            for (int i = 0; i < count; i++) {
                assertEquals(i, Raw.getLong(blocks[i]), "block " + i);
                allocator.free(blocks[i]);
            }
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    /**
     * A thread fills pages and releases its heap; a new thread adopts the released segment. Its full pages beyond the
     * two a bin keeps go to the pool as an ended heap's, so a second thread that frees into them takes them, instead
     * of the adopter holding all of the released heap's room while the second carves pages of its own (larson whose
     * main thread releases: 1.7x the live data instead of 1.3x). Contents are checked and the heap validated.
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {true, false})
    void aReleasedHeapsFullPagesAreSharedOutByItsAdopter(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).pagePool(true).build())) {
            int count = 16 * 1024;
            long[] blocks = filledAndReleased(allocator, count);
            long givenBefore = allocator.stats().pagesGivenToPool();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread adopter = Thread.ofPlatform().daemon().start(() -> {
                try {
                    long own = allocator.malloc(128); // a new heap about to map a segment adopts the released one
                    allocator.free(own);
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            adopter.join(60_000);
            assertNull(failure.get());
            AllocatorStats adopted = allocator.stats();
            assertTrue(adopted.segmentsReclaimed() >= 1, adopted.toJson());
            assertTrue(adopted.pagesGivenToPool() - givenBefore >= 20, "the adopter shared out the full pages: "
                    + adopted.toJson());
            Thread freer = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (int i = count / 2; i < count; i++) {
                        assertEquals(i, Raw.getLong(blocks[i]), "block " + i);
                        allocator.free(blocks[i]);
                        blocks[i] = allocator.malloc(128);
                        Raw.putLong(blocks[i], i);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            freer.join(60_000);
            assertNull(failure.get());
            AllocatorStats after = allocator.stats();
            assertTrue(after.pagesReclaimedOnFree() > adopted.pagesReclaimedOnFree(),
                    "the freer took the pages it freed into: " + after.toJson());
            freeAllChecked(allocator, blocks);
        }
    }

    /**
     * A released segment's pages that another thread has freed into go to the pool when a heap adopts the segment,
     * room or not: that thread will free into them again, and takes them on its next free (larson with churn whose
     * main thread releases: a tenth of all frees were remote, into pages of the segment the other slice's worker
     * had adopted, and the footprint stayed at 1.9-2.0x the live data). The adopter's walk shows none of them.
     */
    @org.junit.jupiter.api.Test
    void pagesAnotherThreadFreesIntoAreNotKeptByTheAdopter() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().pagePool(true).build())) {
            int count = 16 * 1024;
            long[] blocks = filledAndReleased(allocator, count);
            Thread freer = Thread.ofPlatform().daemon().start(() -> {
                for (int i = 0; i < count / 2; i += 4) { // a few blocks of every page of the first half
                    allocator.free(blocks[i]);
                    blocks[i] = 0;
                }
            });
            freer.join(60_000);
            assertTrue(!freer.isAlive(), "the freer finished");
            long[] own = new long[1];
            CountDownLatch adopted = new CountDownLatch(1);
            CountDownLatch checked = new CountDownLatch(1);
            Thread adopter = Thread.ofPlatform().daemon().start(() -> {
                try {
                    own[0] = allocator.malloc(128); // a new heap about to map a segment adopts the released one
                } finally {
                    adopted.countDown();
                }
                try {
                    checked.await(60, java.util.concurrent.TimeUnit.SECONDS); // alive, so its heap is not reaped
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                assertTrue(adopted.await(60, java.util.concurrent.TimeUnit.SECONDS), "the adopter allocated");
                assertTrue(own[0] != 0 && allocator.stats().segmentsReclaimed() >= 1, allocator.stats().toJson());
                Set<Long> freedInto = new HashSet<>();
                for (int i = 0; i < count / 2; i++) {
                    if (blocks[i] != 0) {
                        freedInto.add(blocks[i]);
                    }
                }
                Map<Long, Integer> heapOf = new HashMap<>();
                allocator.visitBlocks((address, size, sizeClass, heapId) -> {
                    heapOf.put(address, heapId);
                    return true;
                });
                int adopterHeap = heapOf.get(own[0]);
                assertTrue(adopterHeap != 0, "the adopter's own block is its heap's");
                for (long block : freedInto) {
                    assertTrue(heapOf.get(block) != adopterHeap, "a page the freer freed into stayed with the adopter");
                }
            } finally {
                checked.countDown();
            }
            adopter.join(60_000);
            allocator.free(own[0]);
            freeAllChecked(allocator, blocks);
        }
    }

    /**
     * {@code count} blocks of 128 bytes, each holding its index, allocated by a thread that then releases its heap
     * (its segment goes to the abandoned pool).
     */
    private static long[] filledAndReleased(Allocator allocator, int count) throws InterruptedException {
        long[] blocks = new long[count];
        Thread filler = Thread.ofPlatform().daemon().start(() -> {
            for (int i = 0; i < count; i++) {
                blocks[i] = allocator.malloc(128);
                Raw.putLong(blocks[i], i);
            }
            allocator.releaseCurrentThread();
        });
        filler.join(60_000);
        assertTrue(!filler.isAlive() && blocks[count - 1] != 0, "the filler allocated every block and released");
        return blocks;
    }

    /**
     * Validates, checks and frees every block left (0: freed already), and shows that nothing is in use after a
     * forced collection.
     */
    private static void freeAllChecked(Allocator allocator, long[] blocks) {
        allocator.validate();
        for (int i = 0; i < blocks.length; i++) {
            if (blocks[i] != 0) {
                assertEquals(i, Raw.getLong(blocks[i]), "block " + i);
                allocator.free(blocks[i]);
            }
        }
        allocator.collect(true);
        allocator.validate();
        assertEquals(0, allocator.stats().blocksInUse());
    }

    /** With the pool off nothing is ever pooled, and the stats say so. */
    @org.junit.jupiter.api.Test
    void withThePoolOffNothingIsPooled() {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().pagePool(false).build())) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) {
                blocks.add(allocator.malloc(64));
            }
            blocks.forEach(allocator::free);
            AllocatorStats stats = allocator.stats();
            assertEquals(0, stats.pooledPages() + stats.pagesGivenToPool() + stats.pagesAdoptedFromPool()
                    + stats.pagesReclaimedOnFree(), stats.toJson());
        }
    }

    /**
     * A thread that gave full pages to the pool and then frees into them takes them back (reclaim on free): its own
     * blocks end on its own lists, and after freeing everything and {@code collect(true)} nothing stays committed.
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {true, false})
    void aThreadThatFreesIntoItsPooledPagesTakesThemBack(boolean checked) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).pagePool(true).build())) {
            allocator.collect(true);
            long before = allocator.stats().committedBytes();
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) { // 64 B: about 20 full pages, most of them pooled
                long block = allocator.malloc(64);
                Raw.putLong(block, i);
                blocks.add(block);
            }
            allocator.validate();
            long pooled = allocator.stats().pooledPages();
            assertTrue(pooled > 0, "full pages beyond two went to the pool");
            for (int i = 0; i < blocks.size(); i += 2) {
                allocator.free(blocks.get(i));
            }
            allocator.validate();
            AllocatorStats afterFrees = allocator.stats();
            assertEquals(0, afterFrees.pooledPages(), "each pooled page was freed into, and taken back");
            assertTrue(afterFrees.pagesReclaimedOnFree() >= pooled, afterFrees.toJson());
            for (int i = 0; i < 10_000; i++) { // refills the pages taken back, and maps nothing new
                blocks.set(2 * i, allocator.malloc(64));
            }
            allocator.validate();
            for (int i = 1; i < blocks.size(); i += 2) {
                assertEquals(i, Raw.getLong(blocks.get(i)), "block " + i);
            }
            for (long block : blocks) {
                allocator.free(block);
            }
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
            assertTrue(allocator.stats().committedBytes() <= before + MiB, "committed "
                    + allocator.stats().committedBytes() + " after everything was freed, " + before + " before");
        }
    }

    /**
     * A thread that has never freed into a full page of its own keeps none: every page it fills goes to the pool (a
     * filler that then idles, as larson's main thread, would otherwise hold two per size class that nobody collects).
     * Once it has freed into one, a bin keeps two again ({@code PagePool.FULL_RETAIN}). Fails with the two kept from
     * the start (two pooled pages fewer in the first bin).
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {true, false})
    void aThreadKeepsFullPagesOnlyOnceItFreesIntoThem(boolean checked) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).pagePool(true).build())) {
            List<Long> small = fill(allocator, 64, 20_000); // about twenty pages of 64 B blocks
            long smallPages = binPages(allocator.stats(), 64);
            assertEquals(smallPages - 1, allocator.stats().pooledPages(),
                    "every full page pooled, only the current one kept: " + allocator.stats().toJson());
            allocator.free(small.get(0)); // into a pooled page: taken back, and this thread now frees into its pages
            long pooledBefore = allocator.stats().pooledPages();
            List<Long> larger = fill(allocator, 256, 5_000); // about twenty pages of 256 B blocks
            long largerPages = binPages(allocator.stats(), 256);
            assertEquals(largerPages - 1 - PagePool_FULL_RETAIN, allocator.stats().pooledPages() - pooledBefore,
                    "two full pages kept, the rest pooled: " + allocator.stats().toJson());
            allocator.validate();
            for (int i = 1; i < small.size(); i++) {
                assertEquals(i, Raw.getLong(small.get(i)), "block " + i);
                allocator.free(small.get(i));
            }
            for (int i = 0; i < larger.size(); i++) {
                assertEquals(i, Raw.getLong(larger.get(i)), "block " + i);
                allocator.free(larger.get(i));
            }
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    /**
     * A heap that takes an idle heap's pooled pages looks past the ones nobody frees into, and takes one it frees into
     * itself before one another thread frees into. The filler fills, in this order, 40 pages nobody will free into,
     * 8 that a thread which never allocates frees into, and 8 that the taker frees into, and then idles. The taker's
     * first look meets 32 pages without room and it carves a page; its next look, past the back-off, starts behind
     * them and takes one of its own. Fails without the move to the back (the same 32 pages again: a second fresh page)
     * and without the preference (one of the other freer's pages, which come first).
     */
    @org.junit.jupiter.api.Test
    void aTakerLooksPastPagesWithoutRoomAndPrefersThoseItFreesInto() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().pagePool(true).build())) {
            Map<Long, List<Long>> byPage = new java.util.LinkedHashMap<>(); // 64 KiB page area -> its blocks, in order
            IdleFiller filler = new IdleFiller(() -> {
                while (byPage.size() < 57) { // 56 full pages and the current one
                    long block = allocator.malloc(64);
                    Raw.putLong(block, block);
                    byPage.computeIfAbsent(block >>> 16, k -> new ArrayList<>()).add(block);
                }
            });
            filler.awaitFilled(); // idle from here on, heap kept
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<List<Long>> pages = new ArrayList<>(byPage.values());
            assertEquals(56, allocator.stats().pooledPages(), "the filler never freed: every full page pooled");
            List<List<Long>> othersPages = pages.subList(40, 48);
            List<List<Long>> takersPages = pages.subList(48, 56);
            Thread other = Thread.ofPlatform().start(() -> freeEveryOther(allocator, othersPages)); // never allocates
            other.join();
            Set<Long> takersAreas = new HashSet<>();
            List<Long> taken = new ArrayList<>();
            Thread taker = Thread.ofPlatform().start(() -> {
                try {
                    freeEveryOther(allocator, takersPages);
                    takersPages.forEach(blocks -> takersAreas.add(blocks.get(0) >>> 16));
                    Thread.sleep(5); // the filler idle for more than a millisecond
                    long first = allocator.malloc(64); // looks at 32 pages without room, then carves one
                    taken.add(first);
                    Thread.sleep(2); // past the 100 us the bin stays out of the pool after a look in vain
                    long block;
                    do { // the carved page runs out: the next slow path looks again
                        block = allocator.malloc(64);
                        taken.add(block);
                    } while (block >>> 16 == first >>> 16);
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            taker.join();
            assertNull(failure.get());
            long next = taken.get(taken.size() - 1);
            assertTrue(!byPage.containsKey(taken.get(0) >>> 16), "the first look found no page with room");
            assertTrue(takersAreas.contains(next >>> 16), "the second look took a page the taker frees into, not "
                    + (byPage.containsKey(next >>> 16) ? "one of another's" : "a fresh one"));
            allocator.validate();
            for (int p = 0; p < pages.size(); p++) {
                List<Long> blocks = pages.get(p);
                for (int i = p >= 40 && p < 56 ? 1 : 0; i < blocks.size(); i += p >= 40 && p < 56 ? 2 : 1) {
                    assertEquals(blocks.get(i), Raw.getLong(blocks.get(i)), "the filler's block, untouched");
                    allocator.free(blocks.get(i));
                }
            }
            taken.forEach(allocator::free);
            filler.close();
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    /**
     * A platform thread that runs a fill and then idles with its heap kept, running no slow path, until
     * {@link #close()}: larson's main thread, whose pages the pool lends to the threads that free into them.
     */
    private static final class IdleFiller implements AutoCloseable {
        private final CountDownLatch filled = new CountDownLatch(1);
        private final CountDownLatch done = new CountDownLatch(1);
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Thread thread;

        IdleFiller(Runnable fill) {
            thread = Thread.ofPlatform().daemon().start(() -> {
                try {
                    fill.run();
                } catch (Throwable t) {
                    failure.set(t);
                } finally {
                    filled.countDown();
                }
                try {
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        /** Waits for the fill to end, and fails the test if it threw. */
        void awaitFilled() throws InterruptedException {
            assertTrue(filled.await(60, java.util.concurrent.TimeUnit.SECONDS), "the filler finished");
            assertNull(failure.get(), () -> "the filler failed: " + failure.get());
        }

        /** Ends the idle thread (its heap is then reaped as a dead thread's). */
        @Override
        public void close() throws InterruptedException {
            done.countDown();
            thread.join();
        }
    }

    /** Frees every other block of each page (first, third, ...), leaving those pages with room. */
    private static void freeEveryOther(Allocator allocator, List<List<Long>> pages) {
        for (List<Long> blocks : pages) {
            for (int i = 0; i < blocks.size(); i += 2) {
                allocator.free(blocks.get(i));
            }
        }
    }

    /** {@code PagePool.FULL_RETAIN}: full pages of a size class a thread heap keeps once it frees into them. */
    private static final int PagePool_FULL_RETAIN = 2;

    private static List<Long> fill(Allocator allocator, int size, int count) {
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long block = allocator.malloc(size);
            Raw.putLong(block, i);
            blocks.add(block);
        }
        return blocks;
    }

    private static long binPages(AllocatorStats stats, long blockSize) {
        return stats.bins().stream().filter(b -> b.blockSize() == blockSize).mapToLong(AllocatorStats.BinStats::pages)
                .sum();
    }

    /**
     * Rounds in which threads fill pages, hand their blocks to each other, free them, die and are replaced, while
     * others adopt, give and take back pages: pooled pages change hands through every path (give, take, reclaim on
     * free, a dying heap's hand-over, a segment's abandonment and adoption) at once. Every block is checked by
     * content, freed once, and the heap validates after each round.
     */
    @ParameterizedTest(name = "rounds {0}")
    @ValueSource(ints = {30})
    void pagesChangeHandsUnderRacesAndChurn(int rounds) throws Exception {
        long seed = System.nanoTime();
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().pagePool(true).build())) {
            Map<Long, Long> handedOver = new HashMap<>(); // block -> stamp, from the threads of the last round
            for (int round = 0; round < rounds; round++) {
                int threads = 3;
                List<Map<Long, Long>> outs = new ArrayList<>();
                List<Map<Long, Long>> ins = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    outs.add(new HashMap<>());
                    ins.add(new HashMap<>());
                }
                int t0 = 0;
                for (Map.Entry<Long, Long> e : handedOver.entrySet()) {
                    ins.get(t0++ % threads).put(e.getKey(), e.getValue());
                }
                AtomicReference<Throwable> failure = new AtomicReference<>();
                CountDownLatch start = new CountDownLatch(1);
                List<Thread> workers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    Map<Long, Long> in = ins.get(t);
                    Map<Long, Long> out = outs.get(t);
                    SplittableRandom random = new SplittableRandom(seed + 31L * round + t);
                    workers.add(Thread.ofPlatform().start(() -> {
                        try {
                            start.await();
                            List<Long> mine = new ArrayList<>();
                            for (Map.Entry<Long, Long> e : in.entrySet()) {
                                if (Raw.getLong(e.getKey()) != e.getValue()) {
                                    throw new AssertionError("block " + Long.toHexString(e.getKey()) + " changed");
                                }
                                allocator.free(e.getKey()); // another thread's block: its page may be pooled
                            }
                            for (int i = 0; i < 6_000; i++) {
                                long block = allocator.malloc(16 + random.nextInt(200));
                                long stamp = random.nextLong();
                                Raw.putLong(block, stamp);
                                if (random.nextInt(3) == 0) {
                                    out.put(block, stamp);
                                } else {
                                    mine.add(block);
                                    Raw.putLong(block, block);
                                }
                                if (!mine.isEmpty() && random.nextInt(4) == 0) {
                                    long victim = mine.remove(random.nextInt(mine.size()));
                                    if (Raw.getLong(victim) != victim) {
                                        throw new AssertionError("own block changed");
                                    }
                                    allocator.free(victim);
                                }
                            }
                            for (long block : mine) {
                                allocator.free(block);
                            }
                            if (random.nextBoolean()) {
                                allocator.releaseCurrentThread(); // else its heap is reaped after it dies
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }));
                }
                start.countDown();
                for (Thread worker : workers) {
                    worker.join();
                }
                assertNull(failure.get(), "seed " + seed + ", round " + round);
                handedOver.clear();
                for (Map<Long, Long> out : outs) {
                    handedOver.putAll(out);
                }
                allocator.collect(false); // reaps the dead threads' heaps
                allocator.validate();
                Set<Long> walked = new HashSet<>();
                allocator.visitBlocks((address, usable, sizeClass, heapId) -> walked.add(address));
                assertEquals(handedOver.keySet(), walked, "seed " + seed + ", round " + round);
            }
            for (long block : handedOver.keySet()) {
                allocator.free(block);
            }
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
            System.out.println("page pool races: " + rounds + " rounds, seed " + seed);
        }
    }
}
