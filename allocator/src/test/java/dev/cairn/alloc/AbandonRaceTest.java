package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Remote frees racing the hand-over of their segment, repeated many times: an owner releases its heap while two
 * other threads free its blocks and a fourth thread allocates in the same size classes (and so adopts the segment
 * while the frees still arrive). Every block must be freed exactly once, contents intact, nothing lost: after each
 * round the heap validates; at the end nothing is in use and the pool is empty. Seeds are printed.
 */
class AbandonRaceTest {

    private static final int ROUNDS = 150;
    private static final int BLOCKS = 3_000;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void freesRacingAbandonmentAndAdoption(boolean checked) throws Exception {
        long seed = Long.getLong("cairn.alloc.seed", System.nanoTime());
        System.out.println("AbandonRaceTest seed=" + seed + " (replay with -Dcairn.alloc.seed=" + seed + ")");
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            List<long[]> carried = new ArrayList<>(); // the adopters' blocks, freed a round later by another thread
            for (int round = 0; round < ROUNDS; round++) {
                carried = runRound(allocator, seed + round, carried);
                allocator.validate();
            }
            for (long[] block : carried) {
                Blocks.check(block[0], block[1], block[2]);
                allocator.free(block[0]);
            }
            allocator.collect(true);
            AllocatorStats stats = allocator.stats();
            System.out.printf("  checked=%s: abandoned %d, reclaimed %d, released %d%n", checked,
                    stats.segmentsAbandoned(), stats.segmentsReclaimed(), stats.segmentsReleased());
            assertEquals(0, stats.blocksInUse(), "seed " + seed);
            assertEquals(0, stats.abandonedSegments(), "seed " + seed);
            allocator.validate();
        }
    }

    private static List<long[]> runRound(Allocator allocator, long seed, List<long[]> carried) throws Exception {
        long[][] blocks = new long[BLOCKS][];
        List<long[]> adopted = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CyclicBarrier allocated = new CyclicBarrier(5);
        CyclicBarrier go = new CyclicBarrier(4);

        Thread owner = thread(failure, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Heap heap = allocator.heap();
            for (int i = 0; i < BLOCKS; i++) {
                long size = 16 + random.nextInt(200);
                long block = heap.malloc(size);
                Blocks.fill(block, Math.min(size, 24), seed * BLOCKS + i);
                blocks[i] = new long[] {block, Math.min(size, 24), seed * BLOCKS + i};
            }
            allocated.await();
            go.await();
            heap.release();
        });
        List<Thread> freers = new ArrayList<>();
        for (int f = 0; f < 2; f++) {
            int parity = f;
            freers.add(thread(failure, () -> {
                allocated.await();
                go.await();
                for (int i = parity; i < BLOCKS; i += 2) {
                    Blocks.check(blocks[i][0], blocks[i][1], blocks[i][2]);
                    allocator.free(blocks[i][0]);
                }
            }));
        }
        Thread adopter = thread(failure, () -> {
            SplittableRandom random = new SplittableRandom(~seed);
            Heap heap = allocator.heap();
            allocated.await();
            go.await();
            for (long[] old : carried) { // last round's adopter blocks, freed by a new thread
                Blocks.check(old[0], old[1], old[2]);
                heap.free(old[0]);
            }
            for (int i = 0; i < BLOCKS; i++) {
                long size = 16 + random.nextInt(200);
                long block = heap.malloc(size);
                Blocks.fill(block, Math.min(size, 24), ~seed * BLOCKS + i);
                adopted.add(new long[] {block, Math.min(size, 24), ~seed * BLOCKS + i});
            }
        });
        allocated.await();
        for (Thread t : List.of(owner, freers.get(0), freers.get(1), adopter)) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("seed " + seed, failure.get());
        }
        return adopted;
    }

    private interface Body {
        void run() throws Exception;
    }

    private static Thread thread(AtomicReference<Throwable> failure, Body body) {
        Thread thread = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
        thread.start();
        return thread;
    }
}
