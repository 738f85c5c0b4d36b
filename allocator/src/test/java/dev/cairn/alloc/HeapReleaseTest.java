package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.internal.Inspect;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code Heap.release()} and dead-thread reaping: the segments of a heap that is given up go to the allocator's
 * abandoned pool (or back to the OS when empty), every block stays valid and freeable by any thread, live heaps of
 * the same allocator adopt pooled segments, and no other allocator ever does.
 */
class HeapReleaseTest {

    /** Blocks allocated on a fresh thread, filled with a pattern; the thread then runs {@code end}. */
    private static List<long[]> allocateOnThread(Allocator allocator, int count, long seed, Runnable end)
            throws InterruptedException {
        List<long[]> blocks = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                SplittableRandom random = new SplittableRandom(seed);
                for (int i = 0; i < count; i++) {
                    long size = 16 + random.nextInt(512);
                    long block = allocator.malloc(size);
                    Blocks.fill(block, size, seed + i);
                    blocks.add(new long[] {block, size, seed + i});
                }
                end.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        thread.start();
        thread.join();
        if (failure.get() != null) {
            throw new AssertionError("allocating thread failed", failure.get());
        }
        return blocks;
    }

    private static void checkAndFree(Allocator allocator, List<long[]> blocks) {
        for (long[] b : blocks) {
            Blocks.check(b[0], b[1], b[2]);
            allocator.free(b[0]);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void releasedHeapsBlocksStayValidAndTheEmptiedSegmentGoesBackWithoutAdoption(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            long segmentsBefore = allocator.stats().liveSegments();
            List<long[]> blocks = allocateOnThread(allocator, 5_000, 11, () -> allocator.heap().release());
            AllocatorStats afterRelease = allocator.stats();
            assertEquals(1, afterRelease.heapsReleased());
            assertEquals(0, afterRelease.heapsLive());
            assertEquals(1, afterRelease.abandonedSegments());
            assertEquals(5_000, afterRelease.blocksInUse());
            allocator.validate();

            checkAndFree(allocator, blocks); // remote frees into an abandoned segment, no heap adopts it
            AllocatorStats end = allocator.stats();
            assertEquals(0, end.abandonedSegments(), "the emptied segment left the pool");
            assertEquals(1, end.segmentsReleased());
            assertEquals(0, end.segmentsReclaimed());
            assertEquals(segmentsBefore, end.liveSegments());
            assertEquals(0, end.blocksInUse());
            allocator.validate();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void deadThreadsHeapIsReapedAndAdoptedByALiveThread(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            List<long[]> blocks = allocateOnThread(allocator, 20_000, 12, () -> { });
            // Free every other block: the dead thread's pages now have room in their size classes.
            List<long[]> kept = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) {
                if (i % 2 == 0) {
                    allocator.free(blocks.get(i)[0]);
                } else {
                    kept.add(blocks.get(i));
                }
            }
            allocator.collect(false); // reaps the dead thread's heap
            AllocatorStats reaped = allocator.stats();
            assertEquals(1, reaped.deadThreadsDetected());
            assertTrue(reaped.abandonedSegments() >= 1);
            allocator.validate();

            long segments = reaped.liveSegments();
            List<long[]> fresh = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) { // this thread adopts instead of mapping a new segment
                long size = 16 + (i % 512);
                long block = allocator.malloc(size);
                Blocks.fill(block, size, 1_000_000 + i);
                fresh.add(new long[] {block, size, 1_000_000 + i});
            }
            AllocatorStats adopted = allocator.stats();
            assertTrue(adopted.segmentsReclaimed() >= 1, "a pooled segment was adopted");
            assertEquals(segments, adopted.liveSegments(), "no new segment while the pool had room");
            allocator.validate();

            checkAndFree(allocator, kept); // now local frees for the adopting thread
            checkAndFree(allocator, fresh);
            allocator.collect(true);
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.validate();
        }
    }

    @Test
    void releasedHeapRefusesUseAndTheThreadGetsANewOne() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread thread = new Thread(() -> {
                try {
                    Heap first = allocator.heap();
                    long block = first.malloc(64);
                    first.release();
                    first.release(); // idempotent
                    assertThrows(IllegalStateException.class, () -> first.malloc(64));
                    assertThrows(IllegalStateException.class, () -> first.malloc(100_000));
                    Heap second = allocator.heap();
                    assertNotSame(first, second);
                    long other = second.malloc(64);
                    allocator.free(block); // its own old block: now a remote free into the pool
                    allocator.free(other);
                    allocator.releaseCurrentThread();
                    allocator.releaseCurrentThread(); // no heap: nothing to do
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            thread.start();
            thread.join();
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(2, allocator.stats().heapsReleased());
            allocator.validate();
        }
    }

    @Test
    void onlyTheOwnerMayReleaseAHeap() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            Heap mine = allocator.heap();
            Throwable thrown = OtherThread.thrownBy(() -> mine.release());
            assertTrue(thrown instanceof WrongThreadException, String.valueOf(thrown));
            long block = mine.malloc(32); // still ours
            mine.free(block);
        }
    }

    @Test
    void hugeBlocksOfAnEndedHeapAreReleasedByWhoeverFreesThem() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            long segmentsBefore = allocator.stats().liveSegments();
            List<long[]> blocks = new ArrayList<>();
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 3; i++) {
                    long size = (2L << 20) + i * 4096;
                    long block = allocator.malloc(size);
                    Blocks.fill(block, 4096, i);
                    blocks.add(new long[] {block, 4096, i});
                }
            });
            thread.start();
            thread.join();
            allocator.collect(false);
            assertEquals(1, allocator.stats().deadThreadsDetected());
            assertEquals(segmentsBefore + 3, allocator.stats().liveSegments());
            checkAndFree(allocator, blocks);
            assertEquals(segmentsBefore, allocator.stats().liveSegments());
            allocator.validate();
        }
    }

    /**
     * A thread that ended is found on another thread's next malloc slow path once the reap interval has passed,
     * even when that slow path needs no new segment (before, only a thread start, a new segment or {@code collect()}
     * looked, so larson's successor threads freed their predecessors' blocks remotely for a whole generation).
     */
    @Test
    void aThreadThatEndedIsReapedOnAnotherThreadsSlowPath() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            heap.free(heap.malloc(16)); // this thread's segment exists: the slow path below will not map one
            List<long[]> blocks = allocateOnThread(allocator, 1_000, 31, () -> { });
            assertEquals(0, allocator.stats().deadThreadsDetected());
            Thread.sleep(2 * TimeUnit.NANOSECONDS.toMillis(Inspect.REAP_INTERVAL_NANOS) + 1);
            long slowPaths = allocator.stats().slowPathCalls();
            long block = heap.malloc(3_000); // a size class this heap has no page of yet: a slow path
            assertTrue(allocator.stats().slowPathCalls() > slowPaths);
            assertEquals(1, allocator.stats().deadThreadsDetected());
            heap.free(block);
            checkAndFree(allocator, blocks);
            allocator.validate();
        }
    }

    @Test
    void twoAllocatorsNeverAdoptEachOthersSegments() throws Exception {
        try (Allocator a = Allocator.create(); Allocator b = Allocator.create()) {
            List<long[]> inA = allocateOnThread(a, 4_000, 21, () -> { });
            List<long[]> inB = allocateOnThread(b, 4_000, 22, () -> { });
            for (int i = 0; i < inA.size(); i += 2) {
                a.free(inA.get(i)[0]);
                b.free(inB.get(i)[0]);
            }
            a.collect(false);
            assertEquals(1, a.stats().abandonedSegments());
            // B's dead thread is only reaped by B; A's pool is only drained by A's threads.
            long aSegment = Inspect.segmentOf(a, inA.get(1)[0]);
            assertTrue(Inspect.isAbandoned(a, aSegment));
            for (int i = 0; i < 20_000; i++) {
                b.free(b.malloc(16 + i % 512));
            }
            assertEquals(1, b.stats().deadThreadsDetected());
            assertTrue(b.stats().segmentsReclaimed() >= 1, "B adopted its own dead thread's segment");
            assertTrue(Inspect.isAbandoned(a, aSegment), "B did not take A's segment");
            assertEquals(0, a.stats().segmentsReclaimed());
            for (long[] block : inA) {
                assertFalse(b.owns(block[0]));
            }
            for (long[] block : inB) {
                assertFalse(a.owns(block[0]));
            }
            for (int i = 1; i < inA.size(); i += 2) {
                Blocks.check(inA.get(i)[0], inA.get(i)[1], inA.get(i)[2]);
                Blocks.check(inB.get(i)[0], inB.get(i)[1], inB.get(i)[2]);
                a.free(inA.get(i)[0]);
                b.free(inB.get(i)[0]);
            }
            a.validate();
            b.validate();
            assertEquals(0, a.stats().blocksInUse());
            assertEquals(0, b.stats().blocksInUse());
        }
    }
}
