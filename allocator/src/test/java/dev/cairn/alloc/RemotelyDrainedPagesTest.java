package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Pages whose blocks were all freed by other threads are retired by their owner's slow path within a few
 * milliseconds, even when the owner never allocates from their size class again: they held memory until the owner
 * next needed a page of that class before.
 */
class RemotelyDrainedPagesTest {

    @Test
    void anOwnerRetiresPagesOtherThreadsEmptiedWhileItAllocatesOtherSizes() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ZERO).build())) {
            Heap heap = allocator.heap();
            long[] blocks = new long[16 * 1024]; // 16 MiB of 1000-byte blocks: full pages
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = heap.malloc(1000);
            }
            long pagesFull = allocator.stats().pages();
            Thread freer = Thread.ofPlatform().start(() -> {
                for (long block : blocks) {
                    allocator.free(block);
                }
            });
            freer.join();
            long deadline = System.nanoTime() + 2_000_000_000L;
            long[] other = new long[64];
            long committed;
            do { // other sizes only, through slow paths
                for (int i = 0; i < other.length; i++) {
                    other[i] = heap.malloc(40_000 + i); // large blocks: a page fills after a few
                }
                for (long block : other) {
                    heap.free(block);
                }
                LockSupport.parkNanos(1_000_000);
                committed = allocator.stats().committedBytes();
            } while (committed > 8L << 20 && System.nanoTime() < deadline);
            assertTrue(committed <= 8L << 20, "committed " + committed + " with nothing but one thread's 64 blocks "
                    + "live (" + pagesFull + " pages were full)");
            allocator.validate();
        }
    }
}
