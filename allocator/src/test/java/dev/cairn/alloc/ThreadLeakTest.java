package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * mimalloc-bench's mleak pattern: batches of short-lived threads, each allocating one small zeroed block that outlives
 * it in a shared transfer array, freeing the block it displaces there (most often one a dead thread allocated) and
 * ending without releasing its heap. Live data never passes the array's 128 KiB, so what the allocator holds must
 * not grow with the number of threads: reserved and committed bytes stay at a few segments' worth, every dead
 * thread is detected, and the pool does not fill with segments nobody adopts. Each block carries its own tag,
 * checked before its free. Seeds are printed.
 */
class ThreadLeakTest {

    private static final int ROUNDS = 200;
    private static final int THREADS_PER_ROUND = 10;
    private static final int SLOTS = THREADS_PER_ROUND * 100;
    private static final long WORDS = 16;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void thousandsOfThreadsLeaveOneBlockEachAndMemoryStaysFlat(boolean checked) throws Exception {
        long seed = new SplittableRandom().nextLong();
        System.out.printf("ThreadLeakTest checked=%s seed=%d%n", checked, seed);
        AllocatorConfig config = AllocatorConfig.builder().checked(checked).build();
        try (Allocator allocator = Allocator.create(config)) {
            AtomicLongArray transfer = new AtomicLongArray(SLOTS);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long maxReserved = 0;
            long maxCommitted = 0;
            for (int round = 0; round < ROUNDS; round++) {
                Thread[] threads = new Thread[THREADS_PER_ROUND];
                for (int t = 0; t < threads.length; t++) {
                    long threadSeed = seed + (long) round * THREADS_PER_ROUND + t;
                    threads[t] = Thread.ofPlatform().start(() -> {
                        try {
                            long block = allocator.calloc(WORDS, Long.BYTES);
                            for (long w = 0; w < WORDS; w++) {
                                assertEquals(0, readLong(block + w * Long.BYTES), "calloc zeroes");
                            }
                            writeLong(block, block ^ threadSeed);
                            writeLong(block + (WORDS - 1) * Long.BYTES, threadSeed);
                            int slot = new SplittableRandom(threadSeed).nextInt(SLOTS);
                            long displaced = transfer.getAndSet(slot, block);
                            if (displaced != 0) {
                                checkAndFree(allocator, displaced);
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    });
                }
                for (Thread thread : threads) {
                    thread.join();
                }
                if (failure.get() != null) {
                    throw new AssertionError("seed " + seed, failure.get());
                }
                AllocatorStats stats = allocator.stats();
                maxReserved = Math.max(maxReserved, stats.reservedBytes());
                maxCommitted = Math.max(maxCommitted, stats.committedBytes());
            }
            AllocatorStats stats = allocator.stats();
            System.out.printf("ThreadLeakTest checked=%s: %d threads, peak reserved %d MiB, peak committed %.1f MiB,"
                    + " %d segments abandoned, %d adopted, %d in the pool%n", checked, ROUNDS * THREADS_PER_ROUND,
                    stats.peakReservedBytes() >> 20, stats.peakCommittedBytes() / (double) (1 << 20),
                    stats.segmentsAbandoned(), stats.segmentsReclaimed(), stats.abandonedSegments());
            long segment = config.segmentSize();
            // Ten threads at a time need about ten segments (each new heap adopts a pooled one or maps its own);
            // 2,000 threads must not need 2,000.
            maxReserved = Math.max(maxReserved, stats.peakReservedBytes());
            assertTrue(maxReserved <= 16 * segment,
                    "seed " + seed + ": reserved grew to " + maxReserved + " bytes for 2,000 threads");
            assertTrue(maxCommitted <= 16L << 20,
                    "seed " + seed + ": committed grew to " + maxCommitted + " bytes for at most 128 KiB live");
            assertTrue(stats.deadThreadsDetected() >= ROUNDS * THREADS_PER_ROUND - 2 * THREADS_PER_ROUND,
                    "seed " + seed + ": dead threads detected " + stats.deadThreadsDetected());
            assertTrue(stats.abandonedSegments() <= 2 * THREADS_PER_ROUND,
                    "seed " + seed + ": " + stats.abandonedSegments() + " segments waiting in the pool");
            for (int slot = 0; slot < SLOTS; slot++) {
                long block = transfer.getAndSet(slot, 0);
                if (block != 0) {
                    checkAndFree(allocator, block);
                }
            }
            // The last frees came from this thread into dead threads' segments: a collect sweeps the pool, and
            // every segment, empty now, goes back.
            allocator.collect(true);
            AllocatorStats end = allocator.stats();
            assertEquals(0, end.blocksInUse(), "seed " + seed);
            assertEquals(0, end.abandonedSegments(), "seed " + seed + ": segments left in the pool");
            assertEquals(0, end.committedBytes(), "seed " + seed + ": memory left committed");
            allocator.validate();
        }
    }

    private static long readLong(long address) {
        return Blocks.view(address, Long.BYTES).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    private static void writeLong(long address, long value) {
        Blocks.view(address, Long.BYTES).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
    }

    private static void checkAndFree(Allocator allocator, long block) {
        long tag = readLong(block + (WORDS - 1) * Long.BYTES);
        assertEquals(block ^ tag, readLong(block), "a block's contents survived its thread");
        allocator.free(block);
    }
}
