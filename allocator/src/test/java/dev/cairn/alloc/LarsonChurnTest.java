package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.internal.Inspect;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The larson pattern with thread churn, on several allocators at once: in each round, every allocator's workers
 * replace random slots of their arrays (freeing blocks earlier workers allocated), then die, and fresh threads take
 * the arrays over. Between rounds, with everything quiet: every block is checked, belongs to its own allocator
 * only, each allocator's segments are disjoint from the others', and {@code validate()} passes (which also proves
 * that each pool holds only its own allocator's segments). Seeds are printed.
 */
class LarsonChurnTest {

    private static final int ALLOCATORS = 3;
    private static final int WORKERS = 2;
    private static final int SLOTS = 2_000;
    private static final int ROUNDS = 15;
    private static final int OPS = 8_000;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void workersDieAndNewOnesTakeOverTheirBlocksWithoutCrossingDomains(boolean checked) throws Exception {
        long seed = Long.getLong("cairn.alloc.seed", System.nanoTime());
        System.out.println("LarsonChurnTest seed=" + seed + " (replay with -Dcairn.alloc.seed=" + seed + ")");
        List<Allocator> allocators = new ArrayList<>();
        try {
            for (int a = 0; a < ALLOCATORS; a++) {
                allocators.add(Allocator.create(AllocatorConfig.builder().checked(checked).build()));
            }
            // slots[a][w] = {address, size, pattern} x SLOTS
            long[][][] slots = new long[ALLOCATORS][WORKERS][SLOTS * 3];
            for (int round = 0; round < ROUNDS; round++) {
                runRound(allocators, slots, seed + round * 7919L);
                checkQuiet(allocators, slots, seed);
            }
            for (int a = 0; a < ALLOCATORS; a++) {
                Allocator allocator = allocators.get(a);
                for (long[] worker : slots[a]) {
                    for (int i = 0; i < worker.length; i += 3) {
                        if (worker[i] != 0) {
                            allocator.free(worker[i]);
                        }
                    }
                }
                allocator.collect(true);
                AllocatorStats stats = allocator.stats();
                System.out.printf("  allocator %d: dead threads %d, abandoned %d, reclaimed %d, released %d%n", a,
                        stats.deadThreadsDetected(), stats.segmentsAbandoned(), stats.segmentsReclaimed(),
                        stats.segmentsReleased());
                assertEquals(0, stats.blocksInUse(), "seed " + seed);
                assertEquals(0, stats.abandonedSegments(), "seed " + seed);
                assertTrue(stats.deadThreadsDetected() >= (long) (ROUNDS - 1) * WORKERS, "seed " + seed);
                assertTrue(stats.segmentsReclaimed() > 0, "seed " + seed);
                allocator.validate();
            }
        } finally {
            for (Allocator allocator : allocators) {
                allocator.close();
            }
        }
    }

    private static void runRound(List<Allocator> allocators, long[][][] slots, long seed) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int a = 0; a < allocators.size(); a++) {
            Allocator allocator = allocators.get(a);
            for (int w = 0; w < WORKERS; w++) {
                long[] mine = slots[a][w];
                long workerSeed = seed * 31 + a * 131 + w;
                Thread thread = new Thread(() -> {
                    try {
                        replaceSlots(allocator, mine, workerSeed);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
                threads.add(thread);
                thread.start();
            }
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("seed " + seed, failure.get());
        }
    }

    private static void replaceSlots(Allocator allocator, long[] slots, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Heap heap = allocator.heap();
        for (int op = 0; op < OPS; op++) {
            int i = random.nextInt(SLOTS) * 3;
            if (slots[i] != 0) {
                Blocks.check(slots[i], slots[i + 1], slots[i + 2]);
                heap.free(slots[i]);
            }
            long size = 8 + random.nextInt(1_000);
            long block = heap.malloc(size);
            long pattern = random.nextLong();
            Blocks.fill(block, Math.min(size, 48), pattern);
            slots[i] = block;
            slots[i + 1] = Math.min(size, 48);
            slots[i + 2] = pattern;
        }
    }

    private static void checkQuiet(List<Allocator> allocators, long[][][] slots, long seed) {
        Map<Long, Integer> segmentDomain = new HashMap<>();
        for (int a = 0; a < allocators.size(); a++) {
            Allocator allocator = allocators.get(a);
            Set<Long> expected = new HashSet<>();
            for (long[] worker : slots[a]) {
                for (int i = 0; i < worker.length; i += 3) {
                    if (worker[i] == 0) {
                        continue;
                    }
                    Blocks.check(worker[i], worker[i + 1], worker[i + 2]);
                    expected.add(worker[i]);
                    for (int other = 0; other < allocators.size(); other++) {
                        assertEquals(other == a, allocators.get(other).owns(worker[i]), "seed " + seed);
                    }
                    long segment = Inspect.segmentOf(allocator, worker[i]);
                    Integer domain = segmentDomain.putIfAbsent(segment, a);
                    assertTrue(domain == null || domain == a,
                            "segment 0x" + Long.toHexString(segment) + " holds blocks of two allocators");
                }
            }
            Set<Long> visited = new HashSet<>();
            allocator.visitBlocks((address, usable, bin, heapId) -> visited.add(address));
            // The walk sees exactly the blocks the workers hold (frees waiting on cross-thread lists count as free).
            assertEquals(expected, visited, "seed " + seed);
            allocator.validate();
        }
    }
}
