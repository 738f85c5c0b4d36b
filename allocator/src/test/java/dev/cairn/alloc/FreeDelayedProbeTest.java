package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.reclaim.QsbrThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Probes of {@code freeDelayed} through the public API. */
class FreeDelayedProbeTest {

    private static Allocator create(boolean checked) {
        return Allocator.create(AllocatorConfig.builder().checked(checked).build());
    }

    private static void onThread(boolean virtual, Runnable r) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable body = () -> {
            try {
                r.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        };
        Thread t = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
        t.join(20_000);
        assertFalse(t.isAlive());
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aVirtualThreadThatFreesWithDelayAndEndsIsCollectedLater(boolean checked) throws Exception {
        try (Allocator allocator = create(checked)) {
            long[] blocks = new long[5];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = allocator.malloc(64 << i);
            }
            onThread(true, () -> {
                for (long b : blocks) {
                    allocator.freeDelayed(b);
                }
            });
            assertEquals(blocks.length, allocator.stats().delayedFreesPending());
            allocator.collect(false);
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(0, allocator.stats().blocksInUse());
            if (checked) {
                allocator.validate();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void hugeBlocksAndMixedFreesAcrossThreads(boolean checked) throws Exception {
        try (Allocator allocator = create(checked)) {
            QsbrThread reader = allocator.qsbrThread(); // online: holds both blocks until it quiesces
            long huge = allocator.malloc(64L << 20);
            long small = allocator.malloc(32);
            onThread(false, () -> {
                allocator.freeDelayed(huge);
                allocator.freeDelayed(small);
                assertEquals(2, allocator.stats().delayedFreesPending());
                if (checked) {
                    assertThrows(IllegalArgumentException.class, () -> allocator.free(huge));
                    assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(small));
                }
            });
            assertEquals(2, allocator.stats().delayedFreesPending());
            reader.quiescent();
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(0, allocator.stats().blocksInUse());
            if (checked) {
                long b = allocator.malloc(48);
                allocator.free(b);
                assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(b));
                assertEquals(0, allocator.stats().delayedFreesPending());
                allocator.validate();
            }
            allocator.releaseCurrentThread();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void arenaBlocksAreRefused(boolean checked) {
        try (Allocator allocator = create(checked)) {
            try (Arena arena = allocator.newArena()) {
                MemorySegment s = arena.allocate(64);
                assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(s.address()));
                assertEquals(0, allocator.stats().delayedFreesPending());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void closeWithPendingDelayedFreesThenDeferringOnTheOldHandleThrowsInsteadOfCrashing(boolean checked) throws Exception {
        Allocator allocator = create(checked);
        QsbrThread handle = allocator.qsbrThread();
        long held = allocator.malloc(64);
        long other = allocator.malloc(64);
        for (int i = 0; i < 100; i++) {
            allocator.freeDelayed(allocator.malloc(100));
        }
        handle.defer(held);
        allocator.close();
        allocator.freeDelayed(0);
        assertThrows(IllegalStateException.class, () -> allocator.freeDelayed(other));
        assertThrows(IllegalStateException.class, allocator::qsbrThread);
        assertThrows(IllegalStateException.class, () -> handle.defer(other));
        handle.quiescent();
        handle.processDeferred();
        handle.unregister();
        allocator.qsbr().synchronize();
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aThreadRegisteredWithTheDomainDirectlyFreesWithDelayOnItsOwnHandle(boolean checked) throws Exception {
        // qsbr().register() is public: a thread that registered that way and then frees with delay used to get
        // "already registered" from every batch hand-over, after the batch's blocks were marked pending; the
        // batch was dropped and its blocks never freed (pending for ever, counted in use)
        try (Allocator allocator = create(checked)) {
            onThread(false, () -> {
                QsbrThread mine = allocator.qsbr().register();
                long[] blocks = new long[200]; // three full batches and a partial one
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = allocator.malloc(64);
                }
                for (long b : blocks) {
                    allocator.freeDelayed(b);
                }
                assertEquals(blocks.length, allocator.stats().delayedFreesPending());
                assertTrue(allocator.qsbrThread() == mine, "the allocator uses the thread's own handle");
                mine.quiescent();
                allocator.collect(true);
                assertEquals(0, allocator.stats().delayedFreesPending());
                mine.unregister();
            });
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(0, allocator.stats().blocksInUse());
            if (checked) {
                allocator.validate();
            }
        }
    }

    @Test
    void aDirectlyRegisteredThreadCanReapADeadWritersBatch() throws Exception {
        try (Allocator allocator = create(true)) {
            onThread(false, () -> {
                for (int i = 0; i < 10; i++) {
                    allocator.freeDelayed(allocator.malloc(64)); // a partial batch, left in the heap
                }
            });
            assertEquals(10, allocator.stats().delayedFreesPending());
            onThread(false, () -> {
                QsbrThread mine = allocator.qsbr().register();
                allocator.collect(true); // reaps the dead writer's heap: its batch goes onto this thread's queue
                mine.unregister();
            });
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.validate();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aDeadWritersBatchIsFreedByALaterThreadThatOnlyAllocates(boolean checked) throws Exception {
        try (Allocator allocator = create(checked)) {
            onThread(false, () -> {
                for (int i = 0; i < 10; i++) {
                    allocator.freeDelayed(allocator.malloc(64)); // a partial batch, left in the dead heap
                }
            });
            assertEquals(10, allocator.stats().delayedFreesPending());
            AtomicReference<Long> pendingAtEnd = new AtomicReference<>();
            onThread(false, () -> {
                long deadline = System.nanoTime() + 10_000_000_000L;
                long[] live = new long[4096];
                int round = 0;
                while (allocator.stats().delayedFreesPending() != 0 && System.nanoTime() - deadline < 0) {
                    for (int i = 0; i < live.length; i++) { // enough to take malloc's slow path again and again
                        live[i] = allocator.malloc(16 + 16 * ((i + round) % 64));
                    }
                    for (long b : live) {
                        allocator.free(b);
                    }
                    round++;
                }
                pendingAtEnd.set(allocator.stats().delayedFreesPending());
            });
            assertEquals(0L, pendingAtEnd.get(), "the reaping thread never ran the dead writer's batch");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void delayedFreesPendingCountsEveryPathExactly(boolean checked) throws Exception {
        try (Allocator allocator = create(checked)) {
            QsbrThread reader = allocator.qsbrThread(); // online: nothing is freed until it quiesces
            int[] expected = {0};
            long[] mine = new long[150];
            for (int i = 0; i < mine.length; i++) {
                mine[i] = allocator.malloc(32 + i);
            }
            long[] forVirtual = new long[20];
            for (int i = 0; i < forVirtual.length; i++) {
                forVirtual[i] = allocator.malloc(4096);
            }
            long big = allocator.malloc(300_000); // over a batch's byte cap: handed over at once
            for (long b : mine) {
                allocator.freeDelayed(b);
            }
            expected[0] += mine.length;
            allocator.freeDelayed(big);
            expected[0]++;
            reader.defer(allocator.malloc(64)); // straight onto the reader's own queue
            expected[0]++;
            onThread(true, () -> {
                for (long b : forVirtual) {
                    allocator.freeDelayed(b);
                }
            });
            expected[0] += forVirtual.length;
            onThread(false, () -> {
                for (int i = 0; i < 70; i++) {
                    allocator.freeDelayed(allocator.malloc(100));
                }
            });
            expected[0] += 70;
            assertEquals(expected[0], allocator.stats().delayedFreesPending());
            assertEquals(expected[0], allocator.stats().blocksInUse());
            if (checked) {
                allocator.validate();
            }
            reader.quiescent();
            allocator.collect(true);
            // The dead writer's full batch carries a deferred goal that only collect() advanced to, and orphaned
            // queues count the collecting thread too: this online reader must pass one more quiescent point.
            reader.quiescent();
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.releaseCurrentThread();
        }
    }

    @Test
    void anOnlineReaderThatFreesPastTheLimitWhileAnotherReaderIsStuckKeepsGoing() throws Exception {
        try (Allocator allocator = create(true)) {
            java.util.concurrent.CountDownLatch up = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            Thread stuck = Thread.ofPlatform().start(() -> {
                allocator.qsbrThread(); // online, never quiesces until released
                up.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                allocator.qsbrThread().quiescent();
                allocator.releaseCurrentThread();
            });
            up.await();
            int n = 500;
            onThread(false, () -> {
                QsbrThread me = allocator.qsbrThread(); // online writer
                for (int i = 0; i < n; i++) {
                    allocator.freeDelayed(allocator.malloc(64 << 10));
                    if (i % 8 == 0) {
                        me.quiescent();
                    }
                }
                allocator.collect(false);
            });
            assertTrue(allocator.qsbr().stats().limitOverruns() > 0, allocator.qsbr().stats().toString());
            assertTrue(allocator.stats().delayedFreesPending() > 0);
            release.countDown();
            stuck.join();
            allocator.collect(true);
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending(), allocator.qsbr().stats().toString());
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.validate();
        }
    }

    @Test
    void aPendingBlockIsNotLiveAndCannotBeReallocatedOrFreedAgain() {
        try (Allocator allocator = create(true)) {
            QsbrThread reader = allocator.qsbrThread(); // holds it pending
            for (long size : new long[] {48, 5000, 200_000, 40L << 20}) {
                long block = allocator.malloc(size);
                allocator.freeDelayed(block);
                assertFalse(allocator.isLive(block), "size " + size);
                assertThrows(IllegalArgumentException.class, () -> allocator.realloc(block, size * 2));
                assertThrows(IllegalArgumentException.class, () -> allocator.usableSize(block));
                assertThrows(IllegalArgumentException.class, () -> allocator.free(block));
                assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(block));
                assertEquals(1, allocator.stats().delayedFreesPending());
                allocator.validate();
                reader.quiescent();
                allocator.collect(true);
                reader.quiescent();
                allocator.collect(true);
                assertEquals(0, allocator.stats().delayedFreesPending(), "size " + size);
                assertEquals(0, allocator.stats().blocksInUse());
            }
            allocator.releaseCurrentThread();
        }
    }

    /**
     * Readers that come and go (platform and virtual, ending attached, releasing, detaching) while writers replace
     * nodes and free the old ones with delay: a reader never sees a node poisoned (really freed) while it holds it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void comingAndGoingReadersNeverSeeAHeldNodeFreed(boolean checked) throws Exception {
        long seed = System.nanoTime();
        System.out.println("FreeDelayedProbeTest.comingAndGoingReaders seed=" + seed + " checked=" + checked);
        final long magic = 0x5EED5EED5EEDL;
        final int slots = 64;
        try (Allocator allocator = Allocator.create(
                AllocatorConfig.builder().checked(checked).freeFill(0xA5).build())) {
            java.util.concurrent.atomic.AtomicLongArray table = new java.util.concurrent.atomic.AtomicLongArray(slots);
            java.util.function.LongSupplier node = () -> {
                long n = allocator.malloc(64);
                Blocks.view(n, 64).set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 8, magic);
                return n;
            };
            for (int i = 0; i < slots; i++) {
                table.set(i, node.getAsLong());
            }
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicLong violations = new java.util.concurrent.atomic.AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            java.util.List<Thread> threads = new java.util.ArrayList<>();
            for (int w = 0; w < 2; w++) {
                long s = seed + w;
                threads.add(Thread.ofPlatform().start(() -> {
                    java.util.SplittableRandom rnd = new java.util.SplittableRandom(s);
                    try {
                        while (!stop.get()) {
                            long old = table.getAndSet(rnd.nextInt(slots), node.getAsLong());
                            allocator.freeDelayed(old);
                        }
                        allocator.releaseCurrentThread();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (int r = 0; r < 3; r++) {
                long s = seed + 100 + r;
                threads.add(Thread.ofPlatform().start(() -> {
                    java.util.SplittableRandom rnd = new java.util.SplittableRandom(s);
                    try {
                        while (!stop.get()) {
                            boolean virtual = rnd.nextBoolean();
                            int how = rnd.nextInt(3);
                            long childSeed = rnd.nextLong();
                            Runnable body = () -> {
                                java.util.SplittableRandom cr = new java.util.SplittableRandom(childSeed);
                                QsbrThread me = allocator.qsbrThread();
                                for (int k = 0; k < 200; k++) {
                                    long n = table.get(cr.nextInt(slots));
                                    for (int spin = cr.nextInt(50); spin > 0; spin--) {
                                        Thread.onSpinWait();
                                    }
                                    long m = Blocks.view(n, 64).get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 8);
                                    if (m != magic) {
                                        violations.incrementAndGet();
                                    }
                                    if (cr.nextInt(8) == 0) {
                                        me.detach();
                                        me.attach();
                                    } else {
                                        me.quiescent();
                                    }
                                }
                                if (how == 0) {
                                    allocator.releaseCurrentThread();
                                } else if (how == 1) {
                                    me.detach();
                                } // else: ends attached
                            };
                            Thread t = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
                            t.join();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            Thread.sleep(3000);
            stop.set(true);
            for (Thread t : threads) {
                t.join(20_000);
                assertFalse(t.isAlive());
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(0, violations.get(), "a reader saw its node freed while it held it");
            for (int i = 0; i < slots; i++) {
                allocator.free(table.get(i));
            }
            allocator.collect(true);
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending(), allocator.qsbr().stats().toString());
            if (checked) {
                allocator.validate();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"released", "died"})
    void aDepartedWritersQueuedBatchesAreFreedByAReaderThatOnlyAllocates(String how) throws Exception {
        try (Allocator allocator = create(true)) {
            java.util.concurrent.CountDownLatch up = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch writerGone = new java.util.concurrent.CountDownLatch(1);
            AtomicReference<Long> pendingAtEnd = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    QsbrThread me = allocator.qsbrThread(); // online: the writer's batches wait for it
                    up.countDown();
                    writerGone.await();
                    long deadline = System.nanoTime() + 10_000_000_000L;
                    long[] live = new long[4096];
                    int round = 0;
                    while (allocator.stats().delayedFreesPending() != 0 && System.nanoTime() - deadline < 0) {
                        me.quiescent();
                        for (int i = 0; i < live.length; i++) {
                            live[i] = allocator.malloc(16 + 16 * ((i + round) % 64));
                        }
                        for (long b : live) {
                            allocator.free(b);
                        }
                        round++;
                    }
                    pendingAtEnd.set(allocator.stats().delayedFreesPending());
                    allocator.releaseCurrentThread();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            up.await();
            onThread(false, () -> {
                for (int i = 0; i < 64 * 3; i++) { // three full batches: on this thread's QSBR queue
                    allocator.freeDelayed(allocator.malloc(64));
                }
                if (how.equals("released")) {
                    allocator.releaseCurrentThread(); // hands its queue to the domain
                }
            });
            writerGone.countDown();
            reader.join(30_000);
            assertFalse(reader.isAlive());
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(0L, pendingAtEnd.get(), "the departed writer's batches were never run");
        }
    }

    @Test
    void checkedModeRefusesBadHugeDelayedFreesWithNothingChanged() {
        try (Allocator allocator = create(true); Allocator other = create(true)) {
            long huge = allocator.malloc(40L << 20);
            long foreignHuge = other.malloc(40L << 20);
            long freedHuge = allocator.malloc(40L << 20);
            allocator.free(freedHuge);
            allocator.collect(true);
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(huge + 16));
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(huge + (1L << 20)));
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(foreignHuge));
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(freedHuge));
            QsbrThread handle = allocator.qsbrThread();
            assertThrows(IllegalArgumentException.class, () -> handle.defer(huge + 16));
            assertThrows(IllegalArgumentException.class, () -> handle.defer(foreignHuge));
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertTrue(allocator.isLive(huge));
            allocator.validate();
            allocator.freeDelayed(huge);
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(0, allocator.stats().blocksInUse());
            other.free(foreignHuge);
            allocator.releaseCurrentThread();
        }
    }
}
