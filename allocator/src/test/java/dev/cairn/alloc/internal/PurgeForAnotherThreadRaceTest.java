package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.Heap;
import dev.cairn.segments.raw.Raw;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Another thread purging a heap's retired pages ({@code HeapImpl.purgeForAnotherThread}, as {@code collect} does)
 * while the owner retires pages and takes them back, over and over: a purge that landed on a page the owner had
 * taken back would zero live blocks (caught by their contents) or decommit memory being formatted (a crash), and
 * one that raced the owner's queue would corrupt it. The purger counts the pages it purged, so the race really ran.
 */
class PurgeForAnotherThreadRaceTest {

    private static final int SLOTS = 3_000;

    @Test
    void purgesByAnotherThreadRaceTheOwnersRetiresAndReuses() throws Exception {
        long seed = System.nanoTime();
        System.out.println("PurgeForAnotherThreadRaceTest seed " + seed);
        AllocatorConfig config = AllocatorConfig.builder().purgeDelay(Duration.ofMillis(1)).build();
        for (int round = 0; round < 4; round++) {
            try (Allocator allocator = Allocator.create(config)) {
                AtomicReference<HeapImpl> owned = new AtomicReference<>();
                AtomicBoolean done = new AtomicBoolean();
                AtomicReference<Throwable> error = new AtomicReference<>();
                long roundSeed = seed + round;
                Thread owner = Thread.ofPlatform().start(() -> {
                    try {
                        Heap heap = allocator.heap();
                        owned.set((HeapImpl) heap);
                        SplittableRandom random = new SplittableRandom(roundSeed);
                        long keeper = heap.malloc(16); // its page keeps the segment: pages retire, not segments
                        long[] blocks = new long[SLOTS];
                        long[] sizes = new long[SLOTS];
                        for (int wave = 0; wave < 60; wave++) {
                            // fill every slot, check every block, free nearly all: pages retire, then come back
                            for (int i = 0; i < SLOTS; i++) {
                                sizes[i] = 16 + random.nextInt(4096);
                                blocks[i] = heap.malloc(sizes[i]);
                                stamp(blocks[i], sizes[i], wave * SLOTS + i);
                            }
                            for (int i = 0; i < SLOTS; i++) {
                                check(blocks[i], sizes[i], wave * SLOTS + i);
                                heap.free(blocks[i]);
                            }
                        }
                        heap.free(keeper);
                        allocator.validate();
                    } catch (Throwable e) {
                        error.set(e);
                    } finally {
                        done.set(true);
                    }
                });
                long purged = 0;
                while (!done.get()) {
                    HeapImpl heap = owned.get();
                    if (heap != null) {
                        purged += heap.purgeForAnotherThread(true);
                    }
                }
                owner.join();
                if (error.get() != null) {
                    throw new AssertionError("seed " + roundSeed, error.get());
                }
                System.out.println("round " + round + ": " + purged + " pages purged by another thread");
                assertTrue(purged > 0, "no page was purged by another thread");
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse());
            }
        }
    }

    /** The block's first and last 8 bytes carry its number: a purge under a live block zeroes them. */
    private static void stamp(long block, long size, long n) {
        Raw.putLong(block, n);
        Raw.putLong(block + size - 8, ~n);
    }

    private static void check(long block, long size, long n) {
        assertEquals(n, Raw.getLong(block), "first word of block " + n);
        assertEquals(~n, Raw.getLong(block + size - 8), "last word of block " + n);
    }
}
