package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.reclaim.QsbrThread;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code freeDelayed}: the block is freed only after every online reader of the allocator's QSBR domain has passed
 * a quiescent point. Offline, unregistered and dead readers do not hold it back; a reader that never quiesces does;
 * another allocator's readers never do. Checked mode refuses double and foreign delayed frees.
 */
class FreeDelayedTest {

    private static final int POISON = 0xA5;
    private static final long POISON_WORD = 0xA5A5A5A5A5A5A5A5L;

    private static Allocator poisoning(boolean checked) {
        return Allocator.create(AllocatorConfig.builder().checked(checked).freeFill(POISON).build());
    }

    private static long word(long block, long offset) {
        return Blocks.view(block, offset + 8).get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
    }

    /** A reader thread: registers online, signals, then waits for {@code proceed} before it runs {@code after}. */
    private static Thread reader(Allocator allocator, CountDownLatch registered, CountDownLatch proceed,
            java.util.function.Consumer<QsbrThread> after, AtomicReference<Throwable> failure) {
        Thread thread = new Thread(() -> {
            try {
                QsbrThread me = allocator.qsbrThread();
                registered.countDown();
                proceed.await();
                after.accept(me);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
        thread.start();
        return thread;
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void anOnlineReaderHoldsTheBlockUntilItQuiesces(boolean checked) throws Exception {
        try (Allocator allocator = poisoning(checked)) {
            CountDownLatch registered = new CountDownLatch(1);
            CountDownLatch quiesce = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = reader(allocator, registered, quiesce, QsbrThread::quiescent, failure);
            registered.await();

            long block = allocator.malloc(64);
            Blocks.view(block, 64).fill((byte) 7);
            allocator.freeDelayed(block);
            allocator.collect(false); // runs this thread's due delayed frees: none is due
            assertEquals(1, allocator.stats().delayedFreesPending());
            assertEquals(0x0707070707070707L, word(block, 8), "still intact: the reader may hold it");
            if (checked) {
                assertThrows(IllegalArgumentException.class, () -> allocator.free(block));
                assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(block));
                allocator.validate(); // the pending block is accounted for
            }

            quiesce.countDown();
            reader.join();
            assertEquals(null, failure.get());
            allocator.collect(false);
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(POISON_WORD, word(block, 8), "really freed now");
            allocator.validate();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"detached", "unregistered", "dead"})
    void offlineUnregisteredAndDeadReadersDoNotHoldBlocksBack(String how) throws Exception {
        try (Allocator allocator = poisoning(true)) {
            CountDownLatch registered = new CountDownLatch(1);
            CountDownLatch proceed = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            CountDownLatch exit = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = reader(allocator, registered, proceed, me -> {
                switch (how) {
                    case "detached" -> me.detach();
                    case "unregistered" -> me.unregister();
                    default -> { } // ends while registered and online
                }
                done.countDown();
                try {
                    exit.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, failure);
            registered.await();
            long block = allocator.malloc(48);
            allocator.freeDelayed(block);
            allocator.collect(false);
            assertEquals(1, allocator.stats().delayedFreesPending(), "online reader holds it");

            proceed.countDown();
            done.await();
            if (how.equals("dead")) {
                exit.countDown();
                reader.join();
            }
            allocator.collect(false);
            assertEquals(0, allocator.stats().delayedFreesPending(), how + " reader must not hold it back");
            assertEquals(POISON_WORD, word(block, 8));
            exit.countDown();
            reader.join();
            assertEquals(null, failure.get());
            allocator.validate();
        }
    }

    @Test
    void aReaderOfOneAllocatorNeverHoldsBackAnother() throws Exception {
        try (Allocator a = poisoning(true); Allocator b = poisoning(true)) {
            CountDownLatch registered = new CountDownLatch(1);
            CountDownLatch proceed = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = reader(a, registered, proceed, QsbrThread::quiescent, failure);
            registered.await();
            long inA = a.malloc(32);
            long inB = b.malloc(32);
            a.freeDelayed(inA);
            b.freeDelayed(inB);
            a.collect(false);
            b.collect(false);
            assertEquals(1, a.stats().delayedFreesPending(), "A's reader holds A's block");
            assertEquals(0, b.stats().delayedFreesPending(), "nobody reads B");
            assertFalse(a.qsbr() == b.qsbr());
            proceed.countDown();
            reader.join();
            a.collect(false);
            assertEquals(0, a.stats().delayedFreesPending());
            assertEquals(null, failure.get());
        }
    }

    @Test
    void checkedModeRefusesBadDelayedFreesWithNothingChanged() {
        try (Allocator allocator = poisoning(true); Allocator other = poisoning(true)) {
            long block = allocator.malloc(100);
            long foreign = other.malloc(100);
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(foreign));
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(block + 16));
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(0x1000));
            allocator.freeDelayed(0); // like free(0)
            assertEquals(0, allocator.stats().delayedFreesPending());
            allocator.free(block);
            other.free(foreign);
            allocator.validate();
            other.validate();
        }
    }

    @Test
    void anAddressDeferredOnTheQsbrHandleDirectlyIsProvenAsAFreeDelayedIs() {
        // qsbrThread() hands out the domain's own handle; its defer(address) reaches the allocator's free function,
        // so it must be checked like freeDelayed, at the call, before anything is queued.
        try (Allocator allocator = poisoning(true); Allocator other = poisoning(true)) {
            QsbrThread handle = allocator.qsbrThread();
            long block = allocator.malloc(100);
            long keep = allocator.malloc(100); // keeps the page in use, so its memory can be read after the free
            long foreign = other.malloc(100);
            assertThrows(IllegalArgumentException.class, () -> handle.defer(0x1000L));
            assertThrows(IllegalArgumentException.class, () -> handle.defer(foreign));
            assertThrows(IllegalArgumentException.class, () -> handle.defer(block + 16));
            assertEquals(0, allocator.stats().delayedFreesPending());

            handle.defer(block);
            assertEquals(1, allocator.stats().delayedFreesPending());
            assertThrows(IllegalArgumentException.class, () -> allocator.free(block), "pending: a second free");
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(block));
            allocator.collect(true); // this thread is the only reader, and it is here: the goal is reached
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(POISON_WORD, word(block, 8), "freed for real");
            allocator.free(keep);
            other.free(foreign);
            allocator.validate();
            other.validate();
            allocator.releaseCurrentThread();
        }
    }

    @Test
    void aThreadThatUnregistersItsHandleGetsANewOneAndKeepsFreeing() {
        // a reader that leaves the domain the QSBR way (unregister) instead of releaseCurrentThread(): the allocator
        // must not keep handing out, or deferring on, the dead handle
        try (Allocator allocator = poisoning(true)) {
            long first = allocator.malloc(64);
            allocator.freeDelayed(first);
            QsbrThread handle = allocator.qsbrThread();
            handle.unregister(); // runs what is due, hands the rest to the domain
            assertFalse(handle.isRegistered());
            QsbrThread again = allocator.qsbrThread();
            assertTrue(again.isRegistered());
            again.quiescent();
            for (int i = 0; i < 10_000; i++) { // through malloc's slow path too, which processes the queue
                allocator.freeDelayed(allocator.malloc(64 + (i & 255)));
            }
            again.unregister();
            allocator.freeDelayed(allocator.malloc(64));
            allocator.collect(true);
            allocator.validate();
            allocator.releaseCurrentThread();
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void delayedFreesOfAThreadThatEndsWithoutReleasingAreFreedByTheThreadThatReapsIt(boolean checked)
            throws Exception {
        // a writer's delayed frees wait in its heap's batch (DelayedBatch) until a batch is full or a hand-over
        // point: when the writer ends without releasing anything, whoever reaps its heap must send them on
        try (Allocator allocator = poisoning(checked)) {
            long[] blocks = new long[10];
            long[] keep = new long[1];
            Thread writer = Thread.ofPlatform().start(() -> {
                keep[0] = allocator.malloc(64); // keeps the page in use, so the freed blocks can be read
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = allocator.malloc(64); // one page, which keep[0] holds in use
                    Blocks.fill(blocks[i], 64, i);
                }
                for (long block : blocks) {
                    allocator.freeDelayed(block);
                }
            });
            writer.join();
            assertEquals(blocks.length, allocator.stats().delayedFreesPending());
            if (checked) {
                allocator.validate(); // the walk finds exactly the pending blocks the batches count
                assertThrows(IllegalArgumentException.class, () -> allocator.free(blocks[0]), "still pending");
            }
            allocator.collect(true); // reaps the writer's heap, queues its batch here, and runs it: no reader holds it
            assertEquals(0, allocator.stats().delayedFreesPending());
            for (long block : blocks) {
                assertEquals(POISON_WORD, word(block, 8), "freed for real");
            }
            assertEquals(1, allocator.stats().blocksInUse());
            allocator.free(keep[0]);
            allocator.collect(true);
            assertEquals(0, allocator.stats().blocksInUse());
            allocator.validate();
            allocator.releaseCurrentThread();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void arenaBlocksAreRefusedBecauseTheArenaFreesThemWithoutWaiting(boolean checked) throws Exception {
        // the arena's close unmaps its memory at once; a pending delayed free of one of its blocks ran later, on
        // memory that was gone, and crashed the JVM
        try (Allocator allocator = poisoning(checked)) {
            CountDownLatch online = new CountDownLatch(1);
            CountDownLatch stop = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = reader(allocator, online, stop, QsbrThread::quiescent, failure);
            online.await();
            java.lang.foreign.Arena arena = allocator.newArena();
            long block = arena.allocate(64).address();
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(block));
            assertThrows(IllegalArgumentException.class, () -> allocator.qsbrThread().defer(block));
            for (int i = 0; i < 100; i++) {
                arena.allocate(100_000);
            }
            arena.close();
            stop.countDown();
            reader.join();
            assertEquals(null, failure.get());
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending());
            allocator.validate();
            allocator.releaseCurrentThread();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void threadsThatComeAndGoFreeEachOthersBlocksWithDelay(boolean checked) throws Exception {
        // the batch paths under churn: local and remote delayed frees, plain frees, threads that end with filling
        // batches and blocks pending in other threads' batches, a reader quiescing throughout; every block is
        // content-checked before it is freed, and at the end nothing is pending or in use
        long seed = Long.getLong("cairn.alloc.seed", System.nanoTime());
        System.out.println("FreeDelayedTest churn seed=" + seed + " (replay with -Dcairn.alloc.seed=" + seed + ")");
        try (Allocator allocator = poisoning(checked)) {
            var handed = new java.util.concurrent.ConcurrentLinkedQueue<long[]>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread reader = Thread.ofPlatform().start(() -> {
                QsbrThread me = allocator.qsbrThread();
                while (!stop.get()) {
                    me.quiescent();
                    Thread.onSpinWait();
                }
                allocator.releaseCurrentThread();
            });
            for (int round = 0; round < 12; round++) {
                List<Thread> workers = new ArrayList<>();
                for (int w = 0; w < 3; w++) {
                    long workerSeed = seed + round * 31L + w;
                    boolean release = (workerSeed & 1) == 0; // half end without releasing anything
                    workers.add(Thread.ofPlatform().start(() -> {
                        try {
                            java.util.SplittableRandom random = new java.util.SplittableRandom(workerSeed);
                            for (int i = 0; i < 3000; i++) {
                                long size = 16 + random.nextInt(random.nextInt(10) == 0 ? 100_000 : 600);
                                long p = allocator.malloc(size);
                                Blocks.fill(p, Math.min(size, 64), (int) (p >>> 4));
                                switch (random.nextInt(4)) {
                                    case 0 -> allocator.freeDelayed(p);
                                    case 1 -> allocator.free(p);
                                    default -> handed.add(new long[] {p, Math.min(size, 64)});
                                }
                                long[] other = handed.poll();
                                if (other != null) {
                                    Blocks.check(other[0], other[1], (int) (other[0] >>> 4));
                                    if (random.nextBoolean()) {
                                        allocator.freeDelayed(other[0]); // often another thread's block
                                    } else {
                                        allocator.free(other[0]);
                                    }
                                }
                            }
                            if (release) {
                                allocator.releaseCurrentThread();
                            }
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    }));
                }
                for (Thread worker : workers) {
                    worker.join();
                }
                assertEquals(null, failure.get(), "seed " + seed);
                if (checked && round % 4 == 3) {
                    allocator.validate(); // pending blocks found by the walk == batches + queues
                }
            }
            for (long[] left; (left = handed.poll()) != null; ) {
                Blocks.check(left[0], left[1], (int) (left[0] >>> 4));
                allocator.freeDelayed(left[0]);
            }
            stop.set(true);
            reader.join();
            allocator.collect(true);
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending(), "seed " + seed);
            assertEquals(0, allocator.stats().blocksInUse(), "seed " + seed);
            allocator.validate();
            allocator.releaseCurrentThread();
        }
    }

    @Test
    void fullBatchesReachQsbrWithoutAnyCollect() {
        // a thread that only frees with delay and never reaches a slow path still gets its memory back: each full
        // batch goes to the QSBR queue, whose own processing frees the due ones
        try (Allocator allocator = poisoning(true)) {
            long first = allocator.malloc(64);
            allocator.freeDelayed(first);
            for (int i = 0; i < 100_000; i++) {
                allocator.freeDelayed(allocator.malloc(64));
            }
            assertEquals(POISON_WORD, word(first, 8), "the first batch was freed long ago");
            assertTrue(allocator.stats().delayedFreesPending() < 2_000, "bounded by the queue's processing");
            allocator.validate();
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending());
            allocator.releaseCurrentThread();
        }
    }

    @Test
    void aHeldHeapFreesWithDelayAsTheAllocatorDoes() throws Exception {
        for (boolean checked : new boolean[] {true, false}) {
            try (Allocator allocator = poisoning(checked)) {
                Heap heap = allocator.heap();
                long first = heap.malloc(64);
                Blocks.view(first, 64).fill((byte) 1);
                heap.freeDelayed(first);
                assertEquals(0x0101010101010101L, word(first, 8), "still readable until a quiescent point");
                for (int i = 0; i < 100_000; i++) {
                    heap.freeDelayed(heap.malloc(64)); // full batches reach QSBR without a collect
                }
                assertEquals(POISON_WORD, word(first, 8), "checked=" + checked + ": the first batch was freed");
                if (checked) {
                    long block = heap.malloc(100);
                    assertThrows(IllegalArgumentException.class, () -> heap.freeDelayed(block + 16));
                    assertThrows(IllegalArgumentException.class, () -> heap.freeDelayed(0x1000));
                    heap.freeDelayed(block);
                    assertThrows(IllegalArgumentException.class, () -> heap.freeDelayed(block), "pending already");
                    try (java.lang.foreign.Arena arena = allocator.newArena()) {
                        long inArena = arena.allocate(64).address();
                        assertThrows(IllegalArgumentException.class, () -> heap.freeDelayed(inArena));
                    }
                }
                heap.freeDelayed(0); // like free(0)
                long fromOther = heap.malloc(64);
                Thread other = Thread.ofPlatform().start(() -> heap.freeDelayed(fromOther)); // not its heap
                other.join();
                allocator.collect(true);
                assertEquals(0, allocator.stats().delayedFreesPending(), "checked=" + checked);
                assertEquals(0, allocator.stats().blocksInUse(), "checked=" + checked);
                allocator.validate();
                heap.release();
                long afterRelease = allocator.malloc(64);
                heap.freeDelayed(afterRelease); // an ended heap: the thread's new heap takes the batch
                allocator.collect(true);
                assertEquals(0, allocator.stats().blocksInUse(), "checked=" + checked);
            }
        }
    }

    @Test
    void plainFreePoisonsAtOnceSoTheReaderTestCanFail() {
        // The reader/writer test relies on the poison showing up in freed memory; prove that it does.
        try (Allocator allocator = poisoning(true)) {
            long block = allocator.malloc(64);
            Blocks.view(block, 64).fill((byte) 1);
            allocator.free(block);
            assertEquals(POISON_WORD, word(block, 8));
            assertEquals(POISON_WORD, word(block, 56));
        }
    }

    @Test
    void writerOnlyThreadsJoinOfflineAndBecomeReadersOnRequest() throws Exception {
        try (Allocator allocator = poisoning(true)) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                blocks.add(allocator.malloc(16 + i));
            }
            for (long block : blocks) {
                allocator.freeDelayed(block);
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    // another writer: it must not wait for the first writer, which never quiesces
                    long mine = allocator.malloc(64);
                    allocator.freeDelayed(mine);
                    allocator.collect(false);
                    assertEquals(POISON_WORD, word(mine, 8));
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            other.start();
            other.join();
            assertEquals(null, failure.get());
            QsbrThread me = allocator.qsbrThread();
            assertTrue(me.isAttached(), "asking for the handle makes the writer a reader too");
            allocator.collect(false);
            assertEquals(0, allocator.stats().delayedFreesPending());
            allocator.validate();
        }
    }
}
