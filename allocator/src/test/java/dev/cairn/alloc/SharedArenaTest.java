package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link Allocator#newSharedArena()}: allocations from many threads (contents checked across them), a close from a
 * thread that allocated nothing, an arena that outlives the thread that made it, single blocks freed early, refusals
 * after close, the allocator's close, and allocations racing the close, repeated.
 */
class SharedArenaTest {

    @Test
    void manyThreadsAllocateAnotherClosesAndEverythingGoesBack() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            long segmentsBefore = allocator.stats().liveSegments();
            Arena arena = allocator.newSharedArena();
            ConcurrentLinkedQueue<MemorySegment> all = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int id = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; i < 5_000; i++) {
                            MemorySegment s = arena.allocate(1 + (i * 37 + id) % 900, 8);
                            for (long b = 0; b < s.byteSize(); b++) {
                                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, b), "zero-initialized");
                            }
                            s.fill((byte) (id * 31 + i));
                            all.add(s);
                        }
                        MemorySegment huge = arena.allocate(3L << 20, 4096);
                        huge.set(ValueLayout.JAVA_LONG, huge.byteSize() - 8, id);
                        all.add(huge);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertNull(failure.get());
            assertEquals(4 * 5_001, all.size());
            java.util.Set<Long> addresses = new java.util.HashSet<>();
            for (MemorySegment s : all) {
                assertTrue(addresses.add(s.address()), "one block handed out twice");
                assertTrue(s.scope().isAlive());
            }
            allocator.validate();
            MemorySegment first = all.peek();
            Thread closer = Thread.ofPlatform().start(arena::close); // a thread that allocated nothing
            closer.join();
            assertFalse(arena.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> first.get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> arena.allocate(8));
            assertThrows(IllegalStateException.class, arena::close, "closed twice, as Arena.ofShared()");
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(segmentsBefore, allocator.stats().liveSegments());
        }
    }

    @Test
    void itOutlivesTheThreadThatMadeItAndItsBlocksMayBeFreedOneByOne() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            AtomicReference<Arena> made = new AtomicReference<>();
            AtomicReference<MemorySegment> kept = new AtomicReference<>();
            Thread maker = Thread.ofPlatform().start(() -> {
                Arena arena = allocator.newSharedArena();
                MemorySegment s = arena.allocate(64);
                s.set(ValueLayout.JAVA_LONG, 0, 42);
                made.set(arena);
                kept.set(s);
            });
            maker.join();
            allocator.collect(true); // reaps the dead thread's heaps: not the shared arena's
            Arena arena = made.get();
            assertTrue(arena.scope().isAlive());
            assertEquals(42, kept.get().get(ValueLayout.JAVA_LONG, 0));
            MemorySegment more = arena.allocate(128);
            MemorySegment freedEarly = arena.allocate(256);
            allocator.free(freedEarly); // a block may go back before the arena closes, from any thread
            assertThrows(IllegalArgumentException.class, () -> allocator.free(freedEarly.address()), "double free");
            // (stats count it in use until the arena's heap collects it: every free of a shared heap's block is remote)
            allocator.validate();
            arena.close();
            assertThrows(IllegalArgumentException.class, () -> allocator.free(more), "its scope has closed");
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void closingTheAllocatorClosesAnOpenSharedArena() {
        Allocator allocator = Allocator.create();
        Arena arena = allocator.newSharedArena();
        MemorySegment s = arena.allocate(100);
        allocator.close();
        assertFalse(arena.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> arena.allocate(8));
    }

    @Test
    void allocationsRacingTheCloseEndInIllegalStateAndLeakNothing() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        try (Allocator allocator = Allocator.create()) {
            for (int round = 0; round < 40; round++) {
                Arena arena = allocator.newSharedArena();
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger allocated = new AtomicInteger();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                CountDownLatch started = new CountDownLatch(3);
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    long size = 1 + random.nextInt(2_000);
                    threads.add(Thread.ofPlatform().start(() -> {
                        started.countDown();
                        try {
                            while (!stop.get()) {
                                MemorySegment s = arena.allocate(size);
                                s.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 1); // may throw: closed meanwhile
                                allocated.incrementAndGet();
                            }
                        } catch (IllegalStateException closed) {
                            // the close won: the arena's allocate or the segment's scope refused
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }));
                }
                started.await();
                Thread.sleep(random.nextInt(3));
                arena.close();
                stop.set(true);
                for (Thread thread : threads) {
                    thread.join();
                }
                if (failure.get() != null) {
                    throw new AssertionError("seed " + seed + ", round " + round, failure.get());
                }
                assertEquals(0, allocator.stats().blocksInUse(), "seed " + seed + ", round " + round
                        + ": blocks of a closed arena left (" + allocated.get() + " allocated)");
                allocator.validate();
            }
        }
    }
}
