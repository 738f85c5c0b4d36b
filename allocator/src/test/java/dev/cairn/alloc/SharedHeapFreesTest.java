package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.raw.Raw;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A checked free of a block of the virtual threads' heaps takes the heap's lock when it is free and frees as the owner
 * (AllocatorImpl.lockSharedHeap): no cross-thread push, no collection. These tests hold it to that, and to staying
 * exact when such frees race each other and remote frees of the same block.
 */
class SharedHeapFreesTest {

    /**
     * One virtual thread at a time frees every block the one before it allocated, from whichever shared heap that
     * one had: each checked free finds the heap's lock free, so none may go through the cross-thread lists. (Unchecked
     * frees stay remote pushes, which cost less there than the lock.)
     */
    @org.junit.jupiter.api.Test
    void aVirtualThreadFreesAnotherOnesBlocksAsTheOwner() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(true).build())) {
            long[] blocks = new long[2_000];
            int[] sizes = new int[blocks.length];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int generation = 0; generation < 40; generation++) {
                int g = generation;
                Thread.ofVirtual().uncaughtExceptionHandler((t, e) -> failure.set(e)).start(() -> {
                    Heap heap = allocator.heap();
                    SplittableRandom random = new SplittableRandom(g);
                    for (int i = 0; i < blocks.length; i++) {
                        if (blocks[i] != 0) {
                            assertEquals((byte) (g - 1), Raw.getByte(blocks[i] + sizes[i] - 1), "block " + i);
                            heap.free(blocks[i]);
                        }
                        sizes[i] = 1 + random.nextInt(1024);
                        blocks[i] = heap.malloc(sizes[i]);
                        Raw.putByte(blocks[i] + sizes[i] - 1, (byte) g);
                    }
                }).join();
                assertNull(failure.get());
            }
            for (long block : blocks) {
                allocator.free(block); // the main thread: a platform thread, which may take the lock too
            }
            allocator.collect(true);
            allocator.validate();
            AllocatorStats stats = allocator.stats();
            assertEquals(0, stats.blocksInUse());
            assertEquals(0, stats.remoteFrees(), "a free found a shared heap's lock free and still pushed remotely");
        }
    }

    /**
     * Round after round, two virtual threads and a platform thread free the same blocks at once, in different
     * orders. Some attempts take the heap's lock and free as the owner, others lose the tryLock and free remotely,
     * so both paths race each other. As for a platform thread's own blocks (docs/design/allocator.md, "Raced double
     * frees"), an owner's free and a remote free at the same instant may both return normally; every other attempt
     * is refused, and either way each block ends free once: the heaps stay valid with nothing in use, and blocks
     * allocated afterwards are all distinct.
     */
    @ParameterizedTest(name = "rounds {0}")
    @ValueSource(ints = {2000})
    void racingFreesOfTheSameBlockLeaveItFreeOnce(int rounds) throws Exception {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        long bothPassed = 0;
        try (Allocator allocator = Allocator.create()) {
            for (int round = 0; round < rounds; round++) {
                int count = 64;
                AtomicReferenceArray<Long> blocks = new AtomicReferenceArray<>(count);
                Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < count; i++) {
                        blocks.set(i, allocator.malloc(16 + random.nextInt(512)));
                    }
                }).join();
                AtomicInteger freed = new AtomicInteger();
                AtomicInteger refused = new AtomicInteger();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                CountDownLatch start = new CountDownLatch(1);
                List<Thread> freers = new ArrayList<>();
                for (int f = 0; f < 3; f++) {
                    int stride = f == 1 ? count - 1 : 1; // one of them walks backwards
                    int offset = random.nextInt(count);
                    Runnable body = () -> {
                        try {
                            start.await();
                            for (int n = 0; n < count; n++) {
                                int i = (int) ((offset + (long) n * stride) % count);
                                try {
                                    allocator.free(blocks.get(i));
                                    freed.incrementAndGet();
                                } catch (IllegalArgumentException expected) {
                                    refused.incrementAndGet();
                                }
                            }
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    };
                    freers.add(f == 2 ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
                }
                start.countDown();
                for (Thread freer : freers) {
                    freer.join();
                }
                String where = "seed " + seed + ", round " + round;
                assertNull(failure.get(), where);
                assertEquals(3 * count, freed.get() + refused.get(), where);
                assertTrue(freed.get() >= count, where + ": every block freed");
                bothPassed += freed.get() - count;
                allocator.collect(true); // remote frees count as in use until collected
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse(), where);
                java.util.Set<Long> again = new java.util.HashSet<>();
                Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < count; i++) {
                        again.add(allocator.malloc(16 + (i * 8) % 512));
                    }
                }).join();
                assertEquals(count, again.size(), where + ": a block handed out twice");
                for (long block : again) {
                    allocator.free(block);
                }
            }
            System.out.println("racing frees: " + bothPassed + " blocks whose two frees both returned normally, "
                    + "seed " + seed);
            // still serves and frees after the races
            Thread.ofVirtual().start(() -> allocator.free(allocator.malloc(100))).join();
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }
}
