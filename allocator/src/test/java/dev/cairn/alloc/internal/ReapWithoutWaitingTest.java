package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The slow path's periodic reap never waits for the registry's lock: a virtual thread that waited there would park
 * holding its shared heap (HeapRegistry.maybeReapDead). A reap skipped while the lock is busy happens at the next
 * interval, and it still finds the dead thread's heap.
 */
class ReapWithoutWaitingTest {

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aBusyRegistrySkipsThePeriodicReapAndTheNextIntervalDoesIt() throws Exception {
        try (Allocator created = Allocator.create()) {
            HeapRegistry registry = ((AllocatorImpl) created).registry();
            // A thread that ends without releasing its heap, leaving a block in it.
            long[] block = new long[1];
            Thread dead = Thread.ofPlatform().start(() -> block[0] = created.malloc(100));
            dead.join();
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Thread holder = Thread.ofPlatform().start(() -> {
                registry.lock.lock();
                try {
                    held.countDown();
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    registry.lock.unlock();
                }
            });
            held.await();
            long now = System.nanoTime() + 2 * HeapRegistry.REAP_INTERVAL_NANOS;
            // With a plain lock() this call would wait for the holder, which waits for us: the timeout (on a thread of
            // its own, as an interrupt does not end lock()) fails it.
            assertFalse(registry.maybeReapDead(now), "reaped under another thread's lock");
            done.countDown();
            holder.join();
            assertEquals(0, created.stats().deadThreadsDetected());
            assertFalse(registry.maybeReapDead(now), "a second reap in the same interval");
            assertTrue(registry.maybeReapDead(now + 2 * HeapRegistry.REAP_INTERVAL_NANOS));
            assertEquals(1, created.stats().deadThreadsDetected());
            created.free(block[0]); // the dead thread's block, in an abandoned segment now
            created.validate();
        }
    }
}
