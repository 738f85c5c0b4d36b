package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.Heap;
import dev.cairn.segments.raw.Raw;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The states a raced double free leaves (an owner's free and another thread's claim on one block at the same
 * instant: Pages, "Raced double frees"), made on purpose, one thread, so each resolution is exercised every run:
 * the owner's collection leaves a block it already freed out, a malloc sets aside a block another thread still
 * claims, a pending delayed free of a freed block ends without a second free, a page is not given up under a
 * claim, and a page given up is formatted again only after the checks in flight of its last layout ended.
 * {@code OwnerRemoteDoubleFreeRaceTest} makes the same states with real threads, rarely.
 */
class RacedDoubleFreeTest {

    private static final int SIZE = 32;

    @Test
    void theCollectionLeavesOutABlockItsOwnerFreedToo() {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long keep = heap.malloc(SIZE);
            long block = heap.malloc(SIZE);
            heap.free(block); // the owner's free: on the local list
            claim(allocator, block, true); // and the racing remote free's push: on the cross-thread list too
            allocator.validate(); // a state the heap allows until the collection
            assertEquals(1, allocator.stats().blocksInUse());
            allocator.collect(true);
            allocator.validate();
            assertEquals(1, allocator.stats().blocksInUse(), "the block counted free once");
            assertHandedOutOnce(heap, block);
            heap.free(keep);
            allocator.validate();
        }
    }

    @Test
    void aMallocSetsAsideABlockAnotherThreadStillClaims() {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long keep = heap.malloc(SIZE);
            long block = heap.malloc(SIZE);
            heap.free(block);
            claim(allocator, block, false); // a claim whose push has not happened yet
            long[] taken = new long[1_000]; // more than the page had carved: the local list, block first, is reached
            for (int i = 0; i < taken.length; i++) {
                taken[i] = heap.malloc(SIZE);
                assertNotEquals(block, taken[i], "a block another thread claims was handed out");
            }
            unclaim(allocator, block); // the claim ends (the racing free saw the block freed and took its bit back)
            allocator.validate(); // set aside: free, off every list
            allocator.collect(false); // puts it back
            allocator.validate();
            assertHandedOutOnce(heap, block);
            for (long address : taken) {
                heap.free(address);
            }
            heap.free(keep);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void aPendingDelayedFreeOfABlockItsOwnerFreedEndsWithoutASecondFree() {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long keep = heap.malloc(SIZE);
            long block = heap.malloc(SIZE);
            heap.free(block);
            claim(allocator, block, false); // markPending's OR, after the owner's free slipped in
            ((AllocatorImpl) allocator).releasePending(block); // its readers are gone: the real free
            allocator.validate();
            assertEquals(1, allocator.stats().blocksInUse());
            assertHandedOutOnce(heap, block);
            heap.free(keep);
        }
    }

    @Test
    void aPageIsNotGivenUpWhileABlockOfItIsClaimed() {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long keep = heap.malloc(SIZE); // keeps the segment
            long block = heap.malloc(5_000); // alone on a page of its own size class
            long page = pageOf(allocator, block);
            heap.free(block);
            claim(allocator, block, false);
            assertFalse(Pages.mayUnformat(page));
            allocator.collect(true); // would give up every empty page
            assertNotEquals(0, Raw.getInt(page + BLOCK_SIZE), "given up under a claim");
            unclaim(allocator, block);
            assertTrue(Pages.mayUnformat(page));
            allocator.collect(true);
            assertEquals(0, Raw.getInt(page + BLOCK_SIZE), "given up once the claim ended");
            allocator.validate();
            heap.free(keep);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aPageGivenUpTakesANewLayoutOnlyAfterTheChecksInFlight() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            AllocatorImpl impl = (AllocatorImpl) allocator;
            Heap heap = allocator.heap();
            long keep = heap.malloc(SIZE);
            long block = heap.malloc(1_024);
            long page = pageOf(allocator, block);
            heap.free(block);
            allocator.collect(true); // gives the page up (stamped)
            assertEquals(0, Raw.getInt(page + BLOCK_SIZE));
            CountDownLatch marked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean exited = new AtomicBoolean();
            Thread checker = new Thread(() -> {
                int check = impl.store().enterCheck(); // a check in flight, as a proof of that page's block would be
                marked.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                exited.set(true);
                impl.store().exitCheck(check);
            });
            checker.start();
            assertTrue(marked.await(10, TimeUnit.SECONDS));
            Thread releaser = new Thread(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                release.countDown();
            });
            releaser.start();
            long other = heap.malloc(2_048); // another size class: reuses the page given up, with a new layout
            assertEquals(page, pageOf(allocator, other), "the test meant the page given up to be reused");
            assertTrue(exited.get(), "formatted again while a check of its old layout was in flight");
            checker.join();
            releaser.join();
            heap.free(other);
            heap.free(keep);
            allocator.validate();
        }
    }

    /** Allocates far past the block's page and checks the block comes back exactly once, with distinct blocks. */
    private static void assertHandedOutOnce(Heap heap, long block) {
        long[] taken = new long[3_000];
        Set<Long> seen = new HashSet<>();
        int hits = 0;
        for (int i = 0; i < taken.length; i++) {
            taken[i] = heap.malloc(SIZE);
            assertTrue(seen.add(taken[i]), "handed out twice: " + Long.toHexString(taken[i]));
            hits += taken[i] == block ? 1 : 0;
        }
        assertEquals(1, hits, "the raced block comes back exactly once");
        for (long address : taken) {
            heap.free(address);
        }
    }

    private static long pageOf(Allocator allocator, long address) {
        long segment = Inspect.segmentOf(allocator, address);
        return descriptor(segment, (int) ((address - segment) >>> Raw.getInt(segment + SEG_PAGE_SHIFT)));
    }

    /** What another thread's free or delayed free does to claim a block: sets its remote bit, and pushes it. */
    private static void claim(Allocator allocator, long block, boolean push) {
        long page = pageOf(allocator, block);
        long index = Pages.blockIndex(page, block);
        Raw.getAndBitwiseOrLong(liveWord(Raw.getLong(page + LIVE_MAP), index) + 8, 1L << index);
        if (push) {
            long head;
            do {
                head = Raw.getLongVolatile(page + XTHREAD_FREE);
                Raw.putLong(block, head);
            } while (!Raw.casLong(page + XTHREAD_FREE, head, block));
        }
    }

    private static void unclaim(Allocator allocator, long block) {
        long page = pageOf(allocator, block);
        long index = Pages.blockIndex(page, block);
        Raw.getAndBitwiseAndLong(liveWord(Raw.getLong(page + LIVE_MAP), index) + 8, ~(1L << index));
    }
}
