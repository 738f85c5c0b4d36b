package dev.cairn.alloc;

import static dev.cairn.alloc.ContractSupport.KiB;
import static dev.cairn.alloc.ContractSupport.MiB;
import static dev.cairn.alloc.ContractSupport.onThread;
import static dev.cairn.alloc.ContractSupport.rssBytes;
import static dev.cairn.alloc.ContractSupport.stamp;
import static dev.cairn.alloc.ContractSupport.verify;
import static dev.cairn.alloc.ContractSupport.walk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Issue 4 (threads that come and go): release, dead-thread detection, the abandoned pool per domain, reclaim,
 * virtual threads and their stats, each behaviour the issue states checked through the public API alone, with
 * contents verified and {@code validate()} at the end.
 */
class IssueFourContractTest {

    private static final long SEED = Long.getLong("cairn.test.seed", System.nanoTime());

    static {
        System.out.println("IssueFourContractTest seed " + SEED + " (replay with -Dcairn.test.seed=" + SEED + ")");
    }

    /** Blocks allocated on another thread: address to seed (the address itself), each stamped. */
    private static List<Long> allocateStamped(Allocator allocator, int count, long size) {
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long p = allocator.malloc(size);
            stamp(p, size, p);
            blocks.add(p);
        }
        return blocks;
    }

    // ------------------------------------------------------------------ Heap.release / releaseCurrentThread

    @Test
    void aReleasedHeapsBlocksOutliveItAndAreFreeableFromAnyThread() {
        try (Allocator allocator = Allocator.create()) {
            AllocatorStats start = allocator.stats();
            List<Long> handed = new ArrayList<>();
            onThread(() -> {
                Heap heap = allocator.heap();
                List<Long> blocks = allocateStamped(allocator, 5000, 200);
                blocks.addAll(allocateStamped(allocator, 3, 300_000));
                handed.addAll(blocks);
                heap.release();
                assertThrows(IllegalStateException.class, () -> heap.malloc(8), "a released heap is not usable");
                heap.release(); // idempotent
                long p = allocator.malloc(64); // the next call through the allocator gets a new heap
                allocator.free(p);
                allocator.heap().free(handed.remove(0)); // its old blocks are still accepted, from its new heap
                allocator.releaseCurrentThread();
            });
            AllocatorStats after = allocator.stats();
            assertEquals(start.heapsReleased() + 2, after.heapsReleased(), "heaps released");
            assertTrue(after.segmentsAbandoned() > start.segmentsAbandoned(), "segments with live blocks abandoned");
            assertEquals(handed.size(), after.blocksInUse(), "nothing is lost");
            assertEquals(new HashSet<>(handed), walk(allocator).keySet());
            for (long p : handed) {
                verify(p, 200, p);
                allocator.free(p);
            }
            allocator.collect(false);
            AllocatorStats end = allocator.stats();
            assertEquals(0, end.blocksInUse());
            assertEquals(0, end.abandonedSegments(), "no abandoned segment is left once its blocks are freed");
            allocator.validate();
        }
    }

    @Test
    void releaseFromAnotherThreadIsAWrongThreadExceptionAndReleaseWithoutAHeapIsHarmless() {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long p = heap.malloc(100);
            onThread(() -> assertThrows(WrongThreadException.class, heap::release));
            heap.free(heap.malloc(10)); // still its owner's
            onThread(allocator::releaseCurrentThread); // a thread that never allocated
            onThread(() -> {
                allocator.releaseCurrentThread();
                allocator.releaseCurrentThread();
            });
            allocator.free(p);
            allocator.validate();
        }
    }

    @Test
    void anEmptyReleasedHeapsSegmentsGoBackToTheOs() {
        try (Allocator allocator = Allocator.create()) {
            allocator.collect(true);
            AllocatorStats start = allocator.stats();
            onThread(() -> {
                List<Long> blocks = allocateStamped(allocator, 10_000, 100);
                blocks.forEach(allocator::free);
                allocator.releaseCurrentThread();
            });
            allocator.collect(true);
            AllocatorStats end = allocator.stats();
            assertEquals(start.liveSegments(), end.liveSegments(), "empty segments are freed, not pooled");
            assertEquals(0, end.abandonedSegments());
            assertTrue(end.committedBytes() <= start.committedBytes() + MiB, start.committedBytes() + " -> "
                    + end.committedBytes());
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ dead threads

    @Test
    void aThreadThatEndsWithoutReleasingIsDetectedAndItsSegmentsAbandoned() {
        try (Allocator allocator = Allocator.create()) {
            AllocatorStats start = allocator.stats();
            List<Long> handed = new ArrayList<>();
            onThread(() -> handed.addAll(allocateStamped(allocator, 2000, 500))); // ends holding its heap
            allocator.collect(false); // the on-demand detection
            AllocatorStats after = allocator.stats();
            assertEquals(start.deadThreadsDetected() + 1, after.deadThreadsDetected(), "dead threads detected");
            assertTrue(after.segmentsAbandoned() > start.segmentsAbandoned());
            assertTrue(after.abandonedSegments() >= 1);
            assertEquals(start.heapsLive(), after.heapsLive(), "the dead thread's heap is gone");
            for (long p : handed) {
                verify(p, 500, p);
                allocator.free(p);
            }
            allocator.collect(false);
            assertEquals(0, allocator.stats().abandonedSegments());
            allocator.validate();
        }
    }

    @Test
    void aDeadThreadIsDetectedOnAnotherThreadsSlowPathsWithoutCollect() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            long before = allocator.stats().deadThreadsDetected();
            onThread(() -> allocateStamped(allocator, 1000, 64));
            // no collect(): slow paths of a live thread find it (at most once per millisecond)
            for (int round = 0; round < 2000 && allocator.stats().deadThreadsDetected() == before; round++) {
                List<Long> mine = new ArrayList<>();
                for (int i = 0; i < 2000; i++) {
                    mine.add(allocator.malloc(16 + (i % 64) * 16L));
                }
                mine.forEach(allocator::free);
                Thread.sleep(1);
            }
            assertEquals(before + 1, allocator.stats().deadThreadsDetected(), "detected by slow paths");
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ reclaim

    @Test
    void aLiveThreadAdoptsAbandonedSegmentsAndReusesTheirFreeSpace() {
        try (Allocator allocator = Allocator.create()) {
            List<Long> survivors = new ArrayList<>();
            onThread(() -> {
                List<Long> blocks = allocateStamped(allocator, 20_000, 64);
                for (int i = 0; i < blocks.size(); i++) {
                    if (i % 2 == 0) {
                        allocator.free(blocks.get(i));
                    } else {
                        survivors.add(blocks.get(i));
                    }
                }
                allocator.releaseCurrentThread();
            });
            AllocatorStats abandoned = allocator.stats();
            assertTrue(abandoned.abandonedSegments() >= 1);
            long segmentsBefore = abandoned.liveSegments();
            // the same size class on this thread: it takes the pooled segment instead of mapping a new one
            List<Long> mine = allocateStamped(allocator, 10_000, 64);
            AllocatorStats adopted = allocator.stats();
            Map<Long, Integer> owners = new HashMap<>();
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> owners.put(address, heapId) == null);
            assertTrue(survivors.stream().anyMatch(p -> owners.get(p) != 0), "adopted blocks have a heap again");
            // the block in the current page (full pages of a thread that has not freed into them go to the page pool,
            // whose pages no heap owns)
            assertTrue(owners.get(mine.get(mine.size() - 1)) != 0);
            assertTrue(adopted.segmentsReclaimed() > abandoned.segmentsReclaimed(), "segments reclaimed");
            assertTrue(adopted.abandonedSegments() < abandoned.abandonedSegments());
            assertEquals(segmentsBefore, adopted.liveSegments(), "the free half was reused, no new segment");
            for (long p : survivors) {
                verify(p, 64, p);
            }
            for (long p : mine) {
                verify(p, 64, p);
            }
            // pages that were full become usable again once their blocks are freed
            survivors.forEach(allocator::free);
            mine.forEach(allocator::free);
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.validate();
        }
    }

    @Test
    void reclaimPrefersASegmentWithRoomInTheSizeClassNeeded() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(4 * MiB).build())) {
            Map<Long, List<Long>> bySize = new java.util.concurrent.ConcurrentHashMap<>();
            // two threads alive together (so neither adopts the other's segments), one size class each, both
            // leaving holes behind
            CyclicBarrier allocated = new CyclicBarrier(2);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (long size : new long[] {64, 1024}) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        List<Long> kept = new ArrayList<>();
                        List<Long> blocks = allocateStamped(allocator, (int) (2 * MiB / size), size);
                        for (int i = 0; i < blocks.size(); i++) {
                            if (i % 2 == 0) {
                                allocator.free(blocks.get(i));
                            } else {
                                kept.add(blocks.get(i));
                            }
                        }
                        bySize.put(size, kept);
                        allocated.await();
                        allocator.releaseCurrentThread();
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            long p = allocator.malloc(1024); // adopts one segment: one with room for 1024-byte blocks
            Map<Long, Integer> owners = new HashMap<>();
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> owners.put(address, heapId) == null);
            assertTrue(allocator.stats().segmentsReclaimed() >= 1);
            assertTrue(bySize.get(1024L).stream().anyMatch(b -> owners.get(b) != 0), "a 1024 segment adopted");
            assertTrue(bySize.get(64L).stream().allMatch(b -> owners.get(b) == 0), "a 64-byte segment adopted"
                    + " for a 1024-byte block, while one with room for it waited");
            allocator.free(p);
            for (Map.Entry<Long, List<Long>> e : bySize.entrySet()) {
                for (long b : e.getValue()) {
                    verify(b, e.getKey(), b);
                    allocator.free(b);
                }
            }
            allocator.validate();
        }
    }

    @Test
    void anAbandonedSegmentWhoseBlocksAreAllFreedIsReleasedWithoutAdoption() {
        try (Allocator allocator = Allocator.create()) {
            allocator.collect(true);
            AllocatorStats start = allocator.stats();
            List<Long> handed = new ArrayList<>();
            onThread(() -> {
                handed.addAll(allocateStamped(allocator, 3000, 2000));
                allocator.releaseCurrentThread();
            });
            assertTrue(allocator.stats().abandonedSegments() >= 1);
            // another thread frees them all and allocates nothing: no adoption can happen
            onThread(() -> handed.forEach(allocator::free));
            AllocatorStats freed = allocator.stats(); // no collect(): the last free triggers the release
            assertEquals(0, freed.abandonedSegments(), "released without waiting: " + freed.toJson());
            allocator.collect(false);
            AllocatorStats end = allocator.stats();
            assertEquals(0, end.abandonedSegments());
            assertEquals(start.segmentsReclaimed(), end.segmentsReclaimed(), "nobody adopted it");
            assertTrue(end.segmentsReleased() > start.segmentsReleased(), "released to the OS");
            assertEquals(start.liveSegments(), end.liveSegments());
            allocator.validate();
        }
    }

    @Test
    void blocksOfAnAbandonedSegmentAreCheckedLikeAnyOther() {
        try (Allocator allocator = Allocator.create()) {
            List<Long> handed = new ArrayList<>();
            long[] huge = new long[1];
            onThread(() -> {
                handed.addAll(allocateStamped(allocator, 100, 80));
                huge[0] = allocator.malloc(allocator.config().segmentSize() + 7);
                stamp(huge[0], 4096, huge[0]);
                allocator.releaseCurrentThread();
            });
            Map<Long, Integer> heaps = new HashMap<>();
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> heaps.put(address, heapId) == null);
            assertEquals(handed.size() + 1, heaps.size());
            heaps.values().forEach(id -> assertEquals(0, id, "an abandoned block has no heap"));
            long p = handed.get(0);
            assertTrue(allocator.usableSize(p) >= 80);
            ContractSupport.assertRefused(allocator, p + 8, () -> allocator.free(p + 8));
            ContractSupport.assertRefused(allocator, huge[0] + 64, () -> allocator.free(huge[0] + 64));
            long remoteBefore = allocator.stats().remoteFrees();
            allocator.free(p);
            ContractSupport.assertRefused(allocator, p, () -> allocator.free(p)); // double free
            long q = allocator.realloc(handed.get(1), 8000); // realloc of an abandoned block, on another thread
            verify(q, 80, handed.get(1));
            verify(huge[0], 4096, huge[0]);
            allocator.free(huge[0]);
            assertTrue(allocator.stats().remoteFrees() > remoteBefore, "a huge block freed by another thread");
            ContractSupport.assertRefused(allocator, huge[0], () -> allocator.free(huge[0]));
            allocator.free(q);
            handed.subList(2, handed.size()).forEach(allocator::free);
            allocator.collect(false);
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(0, allocator.stats().abandonedSegments());
            allocator.validate();
        }
    }

    @Test
    void anArenaIsALiveHeapAndADeadThreadsOpenArenaIsReaped() {
        try (Allocator allocator = Allocator.create()) {
            int heaps = allocator.stats().heapsLive();
            java.lang.foreign.MemorySegment[] left = new java.lang.foreign.MemorySegment[1];
            onThread(() -> {
                java.lang.foreign.Arena arena = allocator.newArena();
                assertEquals(heaps + 1, allocator.stats().heapsLive(), "an arena's heap is live");
                left[0] = arena.allocate(1000);
                // the thread ends with its arena open
            });
            allocator.collect(false);
            assertEquals(heaps, allocator.stats().heapsLive(), "the dead thread's arena was reaped");
            assertFalse(allocator.isLive(left[0].address()));
            assertThrows(IllegalArgumentException.class, () -> allocator.free(left[0]));
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    // ------------------------------------------------------------------ the pool belongs to the domain

    @Test
    void twoAllocatorsNeverAdoptEachOthersSegments() {
        try (Allocator a = Allocator.create(); Allocator b = Allocator.create()) {
            List<Long> fromA = new ArrayList<>();
            onThread(() -> {
                fromA.addAll(allocateStamped(a, 20_000, 64));
                for (int i = 0; i < fromA.size(); i += 2) {
                    a.free(fromA.get(i)); // room in A's abandoned segment, the bait for an adoption
                }
                a.releaseCurrentThread();
            });
            fromA.removeIf(p -> !a.isLive(p));
            AllocatorStats aBefore = a.stats();
            assertTrue(aBefore.abandonedSegments() >= 1);
            // B, same size class, same thread: B maps its own segments
            List<Long> fromB = allocateStamped(b, 20_000, 64);
            assertEquals(0, b.stats().segmentsReclaimed(), "B adopted a segment");
            assertEquals(aBefore.abandonedSegments(), a.stats().abandonedSegments(), "A's pool was touched");
            for (long p : fromB) {
                assertTrue(b.owns(p));
                assertFalse(a.owns(p), "B handed out A's memory");
                verify(p, 64, p);
            }
            for (long p : fromA) {
                assertFalse(b.owns(p));
                verify(p, 64, p);
            }
            // and A's own thread does adopt it
            List<Long> moreA = allocateStamped(a, 5000, 64);
            assertTrue(a.stats().segmentsReclaimed() >= 1);
            moreA.forEach(a::free);
            fromA.forEach(a::free);
            fromB.forEach(b::free);
            a.validate();
            b.validate();
        }
    }

    @Test
    void larsonRoundsAcrossSeveralAllocatorsNeverMoveASegmentBetweenDomains() throws Exception {
        int domains = 3;
        int rounds = 8;
        int workers = 3;
        List<Allocator> allocators = new ArrayList<>();
        for (int d = 0; d < domains; d++) {
            allocators.add(Allocator.create());
        }
        try {
            // each domain's live blocks: taken over round after round by new threads
            List<ConcurrentLinkedQueue<long[]>> live = new ArrayList<>();
            for (int d = 0; d < domains; d++) {
                live.add(new ConcurrentLinkedQueue<>());
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int round = 0; round < rounds; round++) {
                List<Thread> threads = new ArrayList<>();
                for (int d = 0; d < domains; d++) {
                    for (int w = 0; w < workers; w++) {
                        int domain = d;
                        long seed = SEED + round * 1000L + d * 10L + w;
                        threads.add(Thread.ofPlatform().start(() -> {
                            try {
                                larsonWorker(allocators, domain, live.get(domain), new Random(seed));
                            } catch (Throwable t) {
                                failure.compareAndSet(null, t);
                            }
                        }));
                    }
                }
                for (Thread t : threads) {
                    t.join(); // they end without releasing: dead threads, found by the next ones
                }
                if (failure.get() != null) {
                    throw new AssertionError("round " + round, failure.get());
                }
            }
            for (int d = 0; d < domains; d++) {
                Allocator allocator = allocators.get(d);
                allocator.collect(true);
                assertTrue(allocator.stats().deadThreadsDetected() >= (long) workers * (rounds - 1),
                        "dead threads of domain " + d + ": " + allocator.stats().deadThreadsDetected());
                Set<Long> expected = new HashSet<>();
                for (long[] block : live.get(d)) {
                    expected.add(block[0]);
                    verify(block[0], block[1], block[0]);
                    for (int other = 0; other < domains; other++) {
                        assertEquals(other == d, allocators.get(other).owns(block[0]), "block of domain " + d
                                + " owned by " + other);
                    }
                }
                assertEquals(expected, walk(allocator).keySet());
                allocator.validate();
                for (long[] block : live.get(d)) {
                    allocator.free(block[0]);
                }
                allocator.collect(true);
                assertEquals(0, allocator.stats().abandonedSegments());
                allocator.validate();
            }
        } finally {
            allocators.forEach(Allocator::close);
        }
    }

    private static void larsonWorker(List<Allocator> allocators, int domain, ConcurrentLinkedQueue<long[]> live,
            Random random) {
        Allocator allocator = allocators.get(domain);
        for (int i = 0; i < 3000; i++) {
            long[] old = live.poll();
            if (old != null) {
                verify(old[0], old[1], old[0]);
                for (int other = 0; other < allocators.size(); other++) {
                    if (other != domain && allocators.get(other).owns(old[0])) {
                        throw new AssertionError("a block of domain " + domain + " lies in domain " + other);
                    }
                }
                allocator.free(old[0]);
            }
            long size = 8 + random.nextInt(random.nextInt(20) == 0 ? 20_000 : 400);
            long p = allocator.malloc(size);
            stamp(p, size, p);
            live.add(new long[] {p, size});
        }
    }

    /**
     * Heaps that come and go (threads, arenas) cost the same whether few or many came before: the heap table was
     * copied whole on every heap's start and end, and never shrank (ids are not reused), so each one cost
     * O(heaps ever made) in time and garbage: 100-400 us per empty arena after 10,000 (Arena.ofConfined(): 1 us),
     * 35 GB of HeapImpl[] copies for 80,000 arenas. Measured in bytes the thread allocates, not in time.
     */
    @Test
    void heapsThatComeAndGoCostTheSameAfterManyCameBefore() {
        try (Allocator allocator = Allocator.create()) {
            long early = javaBytesPerArena(allocator, 2000);
            for (int i = 0; i < 30_000; i++) {
                allocator.newArena().close();
            }
            long late = javaBytesPerArena(allocator, 2000);
            assertTrue(late <= 2 * early + 1024, "Java bytes per arena " + early + " after 2,000 arenas, " + late
                    + " after 32,000");
            allocator.validate();
        }
    }

    private static long javaBytesPerArena(Allocator allocator, int n) {
        long before = threadAllocatedBytes();
        for (int i = 0; i < n; i++) {
            try (java.lang.foreign.Arena arena = allocator.newArena()) {
                arena.allocate(32);
            }
        }
        return (threadAllocatedBytes() - before) / n;
    }

    /** com.sun.management's count, by reflection: this module does not read jdk.management. */
    private static long threadAllocatedBytes() {
        try {
            Object bean = java.lang.management.ManagementFactory.getThreadMXBean();
            Class<?> type = Class.forName("com.sun.management.ThreadMXBean");
            return (long) type.getMethod("getThreadAllocatedBytes", long.class).invoke(bean,
                    Thread.currentThread().threadId());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ short-lived threads, memory bounded

    @Test
    void aThousandShortLivedThreadsKeepMemoryBoundedAndGiveItBackAfterward() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            allocator.collect(true);
            long rssStart = rssBytes();
            AllocatorStats start = allocator.stats();
            int threads = 1000;
            int concurrent = 4;
            long blockSize = 256;
            int blocksPerThread = (int) (256 * KiB / blockSize); // 256 KiB each, half handed over
            ConcurrentLinkedQueue<Long> handed = new ConcurrentLinkedQueue<>();
            AtomicLong maxSegments = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int batch = 0; batch < threads / concurrent; batch++) {
                List<Thread> running = new ArrayList<>();
                for (int t = 0; t < concurrent; t++) {
                    running.add(Thread.ofPlatform().start(() -> {
                        try {
                            List<Long> blocks = allocateStamped(allocator, blocksPerThread, blockSize);
                            for (int i = 0; i < blocks.size(); i++) {
                                if (i % 2 == 0) {
                                    allocator.free(blocks.get(i));
                                } else {
                                    handed.add(blocks.get(i)); // to the surviving thread, this one
                                }
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }));
                }
                running.forEach(ContractSupport::join);
                maxSegments.accumulateAndGet(allocator.stats().liveSegments(), Math::max);
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            AllocatorStats full = allocator.stats();
            long liveBytes = (long) handed.size() * blockSize;
            long segment = allocator.config().segmentSize();
            assertTrue(full.peakCommittedBytes() <= liveBytes * 2 + 4 * segment, "peak committed "
                    + full.peakCommittedBytes() + " for " + liveBytes + " live bytes");
            // committed memory is what is bounded tightly; segments (address space) are spread over more
            assertTrue(maxSegments.get() <= 4 * liveBytes / segment + 8, "segments " + maxSegments.get()
                    + " (a few segments' worth, not " + threads + ")");
            long rssFull = rssBytes();
            for (long p : handed) {
                verify(p, blockSize, p);
                allocator.free(p);
            }
            allocator.collect(true);
            AllocatorStats end = allocator.stats();
            assertEquals(0, end.blocksInUse());
            assertEquals(0, end.abandonedSegments());
            assertTrue(end.committedBytes() <= start.committedBytes() + MiB, "committed " + start.committedBytes()
                    + " -> " + end.committedBytes());
            long rssEnd = rssBytes();
            if (rssStart > 0) { // the Java heap of this test grows meanwhile: what the allocator held must go
                assertTrue(rssFull - rssEnd >= liveBytes / 2, "RSS drops by the live data, " + liveBytes + ": "
                        + rssStart + " -> " + rssFull + " -> " + rssEnd);
            }
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ virtual threads

    @Test
    void aHundredThousandVirtualThreadsUseABoundedNumberOfHeaps() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            int tasks = 100_000;
            ConcurrentLinkedQueue<long[]> handOff = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong maxHeaps = new AtomicLong();
            try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int task = 0; task < tasks; task++) {
                    int me = task;
                    executor.submit(() -> {
                        try {
                            long size = 16 + (me % 50) * 8L;
                            long p = allocator.malloc(size);
                            stamp(p, size, p);
                            long q = allocator.calloc(2, 16);
                            verify(p, size, p);
                            allocator.free(q);
                            if (me % 3 == 0) {
                                handOff.add(new long[] {p, size}); // freed by another virtual thread
                            } else {
                                allocator.free(p);
                            }
                            long[] other = me % 3 == 1 ? handOff.poll() : null;
                            if (other != null) {
                                verify(other[0], other[1], other[0]);
                                allocator.free(other[0]);
                            }
                            if (me % 2_000 == 0) {
                                maxHeaps.accumulateAndGet(allocator.stats().heapsLive(), Math::max);
                            }
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    });
                }
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            for (long[] block; (block = handOff.poll()) != null; ) {
                verify(block[0], block[1], block[0]);
                allocator.free(block[0]);
            }
            int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                    Runtime.getRuntime().availableProcessors());
            long heaps = Math.max(maxHeaps.get(), allocator.stats().heapsLive());
            assertTrue(heaps <= 4L * carriers + 2, heaps + " heaps for " + tasks + " virtual threads on " + carriers
                    + " carriers");
            allocator.collect(true);
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.validate();
        }
    }

    @Test
    void releaseAfterTheAllocatorClosedIsAnIllegalStateAsEveryOtherCall() {
        Allocator allocator = Allocator.create();
        Heap heap = allocator.heap();
        heap.malloc(64);
        allocator.close();
        assertThrows(IllegalStateException.class, allocator::releaseCurrentThread);
        assertThrows(IllegalStateException.class, heap::release, "a platform thread's heap");
        // (a virtual thread's shared heap view still answers release() silently: SharedHeap, not changed here)
    }

    @Test
    void aVirtualThreadsHeapReleaseDoesNothingAndItsBlocksStayValid() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            long[] block = new long[1];
            Thread vt = Thread.ofVirtual().start(() -> {
                Heap heap = allocator.heap();
                block[0] = heap.malloc(100);
                stamp(block[0], 100, 5);
                heap.release(); // nothing held between calls
                allocator.releaseCurrentThread();
                heap.free(heap.malloc(10)); // still usable
            });
            vt.join();
            verify(block[0], 100, 5);
            allocator.free(block[0]);
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ frees racing abandonment and adoption

    @Test
    void freesRacingAnAbandonmentOrAnAdoptionLoseNothing() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            Random random = new Random(SEED);
            for (int round = 0; round < 40; round++) {
                int count = 2000 + random.nextInt(2000);
                List<Long> blocks = new ArrayList<>();
                CountDownLatch allocated = new CountDownLatch(1);
                CyclicBarrier go = new CyclicBarrier(3);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread owner = Thread.ofPlatform().start(() -> {
                    try {
                        blocks.addAll(allocateStamped(allocator, count, 48));
                        allocated.countDown();
                        go.await();
                        allocator.releaseCurrentThread(); // abandons while the freer frees
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
                allocated.await();
                List<Long> toFree = new ArrayList<>(blocks.subList(0, count / 2));
                Thread freer = Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        for (long p : toFree) {
                            verify(p, 48, p);
                            allocator.free(p);
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
                go.await();
                // and this thread adopts while the frees arrive
                List<Long> mine = allocateStamped(allocator, 1000, 48);
                owner.join();
                freer.join();
                if (failure.get() != null) {
                    throw new AssertionError("round " + round, failure.get());
                }
                Set<Long> expected = new HashSet<>(blocks.subList(count / 2, count));
                expected.addAll(mine);
                assertEquals(expected, walk(allocator).keySet(), "round " + round);
                for (long p : expected) {
                    verify(p, 48, p);
                    allocator.free(p);
                }
                allocator.validate();
            }
            allocator.collect(true);
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(0, allocator.stats().abandonedSegments());
        }
    }

    @Test
    void statsAndWalksPolledWhileThreadsComeAndGoStaySane() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ConcurrentLinkedQueue<Long> shared = new ConcurrentLinkedQueue<>();
            Thread poller = Thread.ofPlatform().start(() -> {
                try {
                    while (!stop.get()) {
                        AllocatorStats stats = allocator.stats(); // "safe to poll every second": and far more often
                        stats.toJson();
                        assertTrue(stats.blocksInUse() >= 0 && stats.allocatedBytes() >= 0
                                && stats.abandonedSegments() >= 0 && stats.heapsLive() >= 0, stats.toJson());
                        allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
                            assertTrue(address != 0 && usable > 0 && sizeClass >= -1, "visited 0x"
                                    + Long.toHexString(address) + ", usable " + usable + ", class " + sizeClass);
                            return true;
                        });
                        Thread.sleep(1); // leaves the workers most of two cores
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            Random random = new Random(SEED);
            for (int generation = 0; generation < 16; generation++) {
                long seed = random.nextLong();
                boolean release = generation % 2 == 0;
                Thread worker = (generation % 3 == 0 ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
                    try {
                        Random r = new Random(seed);
                        for (int i = 0; i < 2000; i++) {
                            long size = r.nextInt(40) == 0 ? r.nextInt(1_000_000) : 1 + r.nextInt(1500);
                            shared.add(allocator.malloc(size));
                            Long old = r.nextBoolean() ? shared.poll() : null;
                            if (old != null) {
                                allocator.free(old);
                            }
                        }
                        if (release) {
                            allocator.releaseCurrentThread();
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
                worker.join();
            }
            stop.set(true);
            poller.join();
            if (failure.get() != null) {
                throw new AssertionError("seed " + SEED, failure.get());
            }
            assertEquals(new HashSet<>(shared), walk(allocator).keySet());
            shared.forEach(allocator::free);
            allocator.collect(true);
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(0, allocator.stats().abandonedSegments());
            allocator.validate();
        }
    }

    @Test
    void statsReportHeapsAndTheLifeOfAbandonedSegments() {
        try (Allocator allocator = Allocator.create()) {
            AllocatorStats start = allocator.stats();
            Map<String, Long> seen = new HashMap<>();
            List<Long> handed = new ArrayList<>();
            onThread(() -> {
                handed.addAll(allocateStamped(allocator, 1000, 100));
                seen.put("heapsWhileAlive", (long) allocator.stats().heapsLive());
            });
            assertTrue(seen.get("heapsWhileAlive") > start.heapsLive(), "a thread's heap is counted live");
            allocator.collect(false);
            AllocatorStats dead = allocator.stats();
            assertEquals(start.deadThreadsDetected() + 1, dead.deadThreadsDetected());
            assertEquals(start.segmentsAbandoned() + 1, dead.segmentsAbandoned());
            assertEquals(1, dead.abandonedSegments());
            String json = dead.toJson();
            assertTrue(json.contains("\"abandonedSegments\":1"), json);
            assertTrue(json.contains("\"deadThreadsDetected\":" + dead.deadThreadsDetected()), json);
            handed.forEach(allocator::free);
            allocator.collect(false);
            AllocatorStats end = allocator.stats();
            assertEquals(0, end.abandonedSegments());
            assertEquals(dead.segmentsReleased() + 1, end.segmentsReleased(), "released once all were freed");
            allocator.validate();
        }
    }
}
