package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A {@code visitBlocks} visitor may call the allocator (frees are covered in {@code AllocatorTest}). The walk holds
 * the segment store's read side; a thread that ends its heap holds the heap registry's monitor while it gives an
 * emptied segment back, which takes the write side. A visitor that then asked for {@code stats()} (the registry's
 * monitor) waited for that thread, which waited for the walk: both hung. Giving a segment back no longer waits for
 * another thread's walk; the segment goes back when the walk ends.
 */
class VisitorCallsTest {

    @Test
    void aVisitorMayAskForStatsWhileAnotherThreadReleasesItsHeap() throws Exception {
        Allocator allocator = Allocator.create(); // closed only if nothing is stuck: close would wait too
        long mine = allocator.malloc(64);
        CountDownLatch walking = new CountDownLatch(1);
        CountDownLatch released = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread releaser = Thread.ofPlatform().daemon().start(() -> {
            try {
                allocator.free(allocator.malloc(64)); // its segment keeps one empty page, given back at release
                walking.await();
                allocator.releaseCurrentThread(); // under the registry's monitor: gives the segment back
                released.countDown();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
        Thread walker = Thread.ofPlatform().daemon().start(() -> {
            try {
                allocator.visitBlocks((address, usable, bin, heap) -> {
                    walking.countDown();
                    try {
                        Thread.sleep(200); // the releaser is now inside its release
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    assertEquals(1, allocator.stats().blocksInUse()); // the registry's monitor
                    return true;
                });
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
        walker.join(10_000);
        releaser.join(10_000);
        assertFalse(walker.isAlive(), "the visitor is stuck (deadlock with the release)");
        assertFalse(releaser.isAlive(), "the release is stuck (deadlock with the walk)");
        assertNull(failure.get());
        allocator.free(mine);
        allocator.collect(true);
        assertEquals(0, allocator.stats().blocksInUse());
        allocator.validate();
        allocator.close();
    }

    @Test
    void aVisitorCannotCloseTheAllocatorItWalks() {
        try (Allocator allocator = Allocator.create()) {
            long block = allocator.malloc(64);
            allocator.visitBlocks((address, usable, bin, heap) -> {
                org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, allocator::close);
                return true;
            });
            allocator.free(block); // still open and whole
            allocator.validate();
        }
    }
}
