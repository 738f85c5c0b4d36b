package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.segments.OsThread;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * 100,000 virtual threads allocate, check and free (some of them each other's blocks): everything works and the
 * number of heaps stays bounded by a small multiple of the carrier threads, not one per virtual thread.
 */
class VirtualThreadsTest {

    private static final int TASKS = 100_000;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void hundredThousandVirtualThreadsShareABoundedSetOfHeaps(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            ConcurrentLinkedQueue<long[]> handOff = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong maxHeaps = new AtomicLong();
            try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int task = 0; task < TASKS; task++) {
                    int me = task;
                    executor.submit(() -> {
                        try {
                            runTask(allocator, me, handOff);
                            if (me % 5_000 == 0) {
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
                Blocks.check(block[0], block[1], block[2]);
                allocator.free(block[0]);
            }
            int carriers = Runtime.getRuntime().availableProcessors();
            long heaps = Math.max(maxHeaps.get(), allocator.stats().heapsLive());
            System.out.println("VirtualThreadsTest checked=" + checked + ": " + heaps + " heaps for " + TASKS
                    + " virtual threads on " + carriers + " carriers");
            assertTrue(heaps <= 2L * Math.max(carriers, 1) + 1, heaps + " heaps");
            allocator.collect(true);
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.validate();
        }
    }

    /**
     * Virtual threads run one after another: each allocates from the shared heap of the carrier it runs on, so no more
     * shared heaps come into use than carriers ran them (a first heap picked by thread id used all of them).
     */
    @Test
    void virtualThreadsOfOneCarrierShareItsHeap() throws Exception {
        assumeTrue(OsThread.available());
        try (Allocator allocator = Allocator.create()) {
            Set<Long> carriers = ConcurrentHashMap.newKeySet();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int i = 0; i < 200; i++) {
                int size = 16 + 8 * i;
                Thread.ofVirtual().start(() -> {
                    try {
                        carriers.add(OsThread.currentId());
                        long block = allocator.heap().malloc(size);
                        Blocks.fill(block, size, size);
                        Blocks.check(block, size, size);
                        allocator.free(block);
                        carriers.add(OsThread.currentId());
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }).join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            int heaps = allocator.stats().heapsLive();
            System.out.println("VirtualThreadsTest: 200 virtual threads, one at a time, on " + carriers.size()
                    + " carriers used " + heaps + " shared heaps");
            assertTrue(heaps >= 1 && heaps <= carriers.size(), heaps + " heaps for " + carriers.size() + " carriers");
            allocator.validate();
        }
    }

    /** A few blocks of mixed sizes: checked, freed; every tenth task leaves one for a later task to free. */
    private static void runTask(Allocator allocator, int task, ConcurrentLinkedQueue<long[]> handOff) {
        SplittableRandom random = new SplittableRandom(task);
        Heap heap = allocator.heap();
        long[] blocks = new long[8];
        long[] sizes = new long[8];
        for (int i = 0; i < blocks.length; i++) {
            sizes[i] = i == 7 && task % 1_000 == 0 ? 1L << 20 : 1 + random.nextInt(2_048);
            blocks[i] = i % 2 == 0 ? heap.malloc(sizes[i]) : allocator.malloc(sizes[i]);
            Blocks.fill(blocks[i], Math.min(sizes[i], 64), task * 8L + i);
        }
        for (int i = 0; i < blocks.length; i++) {
            Blocks.check(blocks[i], Math.min(sizes[i], 64), task * 8L + i);
            if (i == 0 && task % 10 == 0) {
                handOff.add(new long[] {blocks[i], Math.min(sizes[i], 64), task * 8L + i});
            } else {
                heap.free(blocks[i]);
            }
        }
        long[] previous = task % 10 == 5 ? handOff.poll() : null;
        if (previous != null) {
            Blocks.check(previous[0], previous[1], previous[2]);
            allocator.free(previous[0]);
        }
    }

    @Test
    void virtualThreadsSeeTheSharedHeapAndReleaseIsHarmless() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            AtomicReference<Object> seen = new AtomicReference<>();
            Thread first = Thread.ofVirtual().start(() -> {
                Heap heap = allocator.heap();
                heap.release();
                long block = heap.malloc(100);
                heap.free(block);
                allocator.releaseCurrentThread();
                seen.set(heap);
            });
            first.join();
            AtomicReference<Object> second = new AtomicReference<>();
            Thread.ofVirtual().start(() -> second.set(allocator.heap())).join();
            assertSame(seen.get(), second.get(), "one shared view for all virtual threads");
            assertEquals(0, allocator.stats().heapsReleased());
            allocator.validate();
        }
    }
}
