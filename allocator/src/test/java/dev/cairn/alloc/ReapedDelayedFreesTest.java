package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The delayed frees of a thread that ended, handed over by whichever thread reaps its heap (any thread's malloc
 * slow path), run from that thread's later slow paths, as its own delayed frees would: not only on its next
 * {@code collect()}, which a thread that never frees with delay may never call.
 */
class ReapedDelayedFreesTest {

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aDeadThreadsBatchRunsOnTheReapersSlowPaths(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            allocator.free(allocator.malloc(64)); // this thread has a heap, and never frees with delay
            Thread writer = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10; i++) {
                    allocator.freeDelayed(allocator.malloc(64)); // waits in the writer's filling batch
                }
            });
            writer.join();
            assertEquals(10, allocator.stats().delayedFreesPending());
            // Slow paths (huge blocks) until one has reaped the writer, then as many again: the batch handed to this
            // thread must run from them (there is no reader online to wait for).
            int reapedAt = -1;
            for (int i = 0; i < 10_000 && (reapedAt < 0 || i < reapedAt + 200); i++) {
                allocator.free(allocator.malloc(600_000));
                if (reapedAt < 0 && allocator.stats().deadThreadsDetected() > 0) {
                    reapedAt = i;
                }
                if (reapedAt < 0) {
                    Thread.sleep(0, 100_000); // reaping runs at most once a millisecond
                }
            }
            assertTrue(reapedAt >= 0, "the writer was reaped by a slow path");
            assertEquals(0, allocator.stats().delayedFreesPending(), "the dead writer's delayed frees ran");
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.validate();
        }
    }

    /** The same after Heap.release(): the released heap's batch goes onto the thread's queue, the next heap runs it. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aReleasedHeapsBatchRunsOnTheNextHeapsSlowPaths(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            Thread thread = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10; i++) {
                    allocator.freeDelayed(allocator.malloc(64)); // waits in the heap's filling batch
                }
                allocator.heap().release(); // hands the batch to this thread's QSBR queue
                for (int i = 0; i < 200; i++) {
                    allocator.free(allocator.malloc(600_000)); // slow paths of the thread's next heap
                }
                assertEquals(0, allocator.stats().delayedFreesPending(), "the released heap's delayed frees ran");
            });
            thread.join();
            assertEquals(0, allocator.stats().delayedFreesPending());
        }
    }
}
