package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Frees of the virtual threads' heaps' blocks racing each other: the shared heaps must stay exact when two virtual
 * threads and a platform thread free the same blocks at once.
 */
class SharedHeapFreesTest {

    /**
     * A checked free of a virtual thread's block while its shared heap is idle takes the heap's lock and frees as its
     * owner: the block is free at once, with no remote free left for a collection (a remote push would count the block
     * in use until the heap collects it). Unchecked, the free is a remote push.
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {true, false})
    void aFreeOfAnIdleSharedHeapsBlockIsTheOwners(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            int count = 32;
            long[] blocks = new long[count];
            Thread.ofVirtual().start(() -> {
                for (int i = 0; i < count; i++) {
                    blocks[i] = allocator.malloc(16 + 16 * i);
                }
            }).join();
            for (long block : blocks) {
                allocator.free(block); // this platform thread: no shared heap is held now
            }
            AllocatorStats stats = allocator.stats();
            assertEquals(checked ? 0 : count, stats.blocksInUse(), "blocks in use before any collection");
            assertEquals(0, stats.remoteFrees(), "nothing collected yet");
            allocator.collect(true);
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(checked ? 0 : count, allocator.stats().remoteFrees());
            allocator.validate();
        }
    }

    /**
     * Round after round, two virtual threads and a platform thread free the same blocks at once, in different
     * orders. Some attempts take the block's heap's lock and free as its owner, others find it busy and free remotely,
     * so both paths race each other. As for a platform thread's own blocks (docs/design/allocator.md, "Raced double
     * frees"), an owner's free and a remote free of one block at the same instant are never both accepted, and may
     * both be refused, leaving the block allocated; such blocks are freed afterwards. Either way each block ends free
     * once: the heaps stay valid with nothing in use, and blocks allocated afterwards are all distinct.
     */
    @ParameterizedTest(name = "rounds {0}")
    @ValueSource(ints = {2000})
    void racingFreesOfTheSameBlockLeaveItFreeOnce(int rounds) throws Exception {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        long bothRefused = 0;
        try (Allocator allocator = Allocator.create()) {
            for (int round = 0; round < rounds; round++) {
                int count = 64;
                AtomicReferenceArray<Long> blocks = new AtomicReferenceArray<>(count);
                Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < count; i++) {
                        blocks.set(i, allocator.malloc(16 + random.nextInt(512)));
                    }
                }).join();
                AtomicIntegerArray accepted = new AtomicIntegerArray(count);
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
                                    accepted.incrementAndGet(i);
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
                int freed = 0;
                for (int i = 0; i < count; i++) {
                    assertTrue(accepted.get(i) <= 1, where + ": block " + i + " freed " + accepted.get(i) + " times");
                    freed += accepted.get(i);
                    if (accepted.get(i) == 0) {
                        bothRefused++;
                        allocator.free(blocks.get(i)); // every racing free was refused: the block is still live
                    }
                }
                assertEquals(3 * count, freed + refused.get(), where);
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
            System.out.println("racing frees of shared heaps' blocks: " + bothRefused
                    + " blocks whose racing frees were all refused, seed " + seed);
            // still serves and frees after the races
            Thread.ofVirtual().start(() -> allocator.free(allocator.malloc(100))).join();
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }
}
