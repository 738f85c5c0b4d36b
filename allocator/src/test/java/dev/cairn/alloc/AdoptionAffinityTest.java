package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.internal.Inspect;
import dev.cairn.segments.raw.Raw;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which live thread adopts a dead thread's segment (AbandonedPool, "Which segment a heap adopts"): the one that frees
 * into it, not the first heap that happens to need room in one of its bins; and a segment is not held for that
 * thread past the reservation.
 */
class AdoptionAffinityTest {

    private static final int BLOCKS = 4_000;
    private static final long SIZE = 64;

    /** A platform thread that runs what it is given, in order, until it is ended. */
    private static final class Worker implements AutoCloseable {
        private final AtomicLong tid = new AtomicLong();
        private final ExecutorService executor = Executors.newSingleThreadExecutor(body -> {
            Thread thread = new Thread(body);
            tid.set(thread.threadId());
            return thread;
        });

        <T> T call(java.util.concurrent.Callable<T> task) throws Exception {
            return executor.submit(task).get(30, TimeUnit.SECONDS);
        }

        void run(Runnable task) throws Exception {
            call(() -> {
                task.run();
                return null;
            });
        }

        long tid() {
            return tid.get();
        }

        /** Ends the thread without releasing its heap: the allocator finds it dead later. */
        @Override
        public void close() throws InterruptedException {
            executor.shutdown();
            assertTrue(executor.awaitTermination(30, TimeUnit.SECONDS));
        }
    }

    private static long[] fill(Allocator allocator, int count, int tag) {
        long[] blocks = new long[count];
        for (int i = 0; i < count; i++) {
            blocks[i] = allocator.malloc(SIZE);
            Raw.putLong(blocks[i], tag * 1_000_000L + i);
        }
        return blocks;
    }

    private static void freeAll(Allocator allocator, long[] blocks, int tag, int from) {
        for (int i = from; i < blocks.length; i++) {
            assertEquals(tag * 1_000_000L + i, Raw.getLong(blocks[i]), "block " + i + " of thread " + tag);
            allocator.free(blocks[i]);
        }
    }

    /** A dead thread's blocks and segment, and the blocks of {@code other}, which has a segment of its own. */
    private record Scenario(long[] dead, long[] others, long segment) {
    }

    /**
     * A thread fills blocks and ends without releasing its heap, while {@code other} has filled blocks of its own (so
     * its heap exists before the dead one can be reaped, and has a segment to carve pages from).
     */
    private static Scenario deadThreadBeside(Allocator allocator, Worker other) throws Exception {
        long[] dead;
        long[] others;
        try (Worker first = new Worker()) {
            dead = first.call(() -> fill(allocator, BLOCKS, 1));
            others = other.call(() -> fill(allocator, BLOCKS, 2));
        }
        long segment = Inspect.segmentOf(allocator, dead[0]);
        assertNotEquals(segment, Inspect.segmentOf(allocator, others[0]), "each heap maps its own segment");
        return new Scenario(dead, others, segment);
    }

    @ParameterizedTest(name = "checked={0}")
    @ValueSource(booleans = {true, false})
    void theThreadFreeingIntoADeadThreadsSegmentAdoptsIt(boolean checked) throws Exception {
        // a purge delay of 2 s keeps the reservation open for the whole scenario, however slow the machine
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked)
                .purgeDelay(Duration.ofSeconds(2)).build());
                Worker other = new Worker()) {
            Scenario scenario = deadThreadBeside(allocator, other);
            long[] dead = scenario.dead();
            long[] others = scenario.others();
            long segment = scenario.segment();
            try (Worker successor = new Worker()) {
                successor.run(() -> allocator.free(dead[0])); // takes over the dead thread's blocks: frees first
                Thread.sleep(5); // past the registry's reap interval
                // The other thread's slow paths find the dead heap, abandon its segment (which has room in the very
                // bin they need), and must leave it to the successor.
                long[] more = other.call(() -> fill(allocator, 2 * BLOCKS, 3));
                assertTrue(Inspect.isAbandoned(allocator, segment),
                        "the dead thread's segment stays pooled for the thread freeing into it, not adopted by "
                                + "thread " + other.tid() + ":\n"
                                + Inspect.describeSegments(allocator));
                long[] successors = successor.call(() -> fill(allocator, 16, 4));
                assertEquals(successor.tid(), Inspect.ownerTid(segment),
                        "the successor adopts the segment it frees into, not thread " + other.tid() + ":\n"
                                + Inspect.describeSegments(allocator));
                long remoteBefore = allocator.stats().remoteFrees();
                successor.run(() -> freeAll(allocator, dead, 1, 1)); // local frees now
                successor.run(() -> freeAll(allocator, successors, 4, 0));
                other.run(() -> {
                    freeAll(allocator, others, 2, 0);
                    freeAll(allocator, more, 3, 0);
                    allocator.collect(true);
                });
                assertTrue(allocator.stats().remoteFrees() - remoteBefore < BLOCKS / 10,
                        "the successor's frees of the dead thread's blocks were local");
            }
            allocator.validate();
        }
    }

    @ParameterizedTest(name = "checked={0}")
    @ValueSource(booleans = {true, false})
    void aSegmentSeveralThreadsFreeIntoIsNotReserved(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked)
                .purgeDelay(Duration.ofSeconds(2)).build());
                Worker other = new Worker()) {
            Scenario scenario = deadThreadBeside(allocator, other);
            long[] dead = scenario.dead();
            long[] others = scenario.others();
            long segment = scenario.segment();
            try (Worker one = new Worker(); Worker two = new Worker()) {
                // frees on two different pages (4,000 blocks of 64 B span four 64 KiB pages), by two threads
                one.run(() -> allocator.free(dead[0]));
                two.run(() -> allocator.free(dead[BLOCKS - 1]));
                Thread.sleep(5);
                long[] more = other.call(() -> fill(allocator, 2 * BLOCKS, 3));
                assertEquals(other.tid(), Inspect.ownerTid(segment),
                        "a segment with no single freer goes to the first heap with a use for it:\n"
                                + Inspect.describeSegments(allocator));
                other.run(() -> {
                    for (int i = 1; i < BLOCKS - 1; i++) {
                        allocator.free(dead[i]);
                    }
                    freeAll(allocator, others, 2, 0);
                    freeAll(allocator, more, 3, 0);
                });
            }
            allocator.validate();
        }
    }

    @ParameterizedTest(name = "checked={0}")
    @ValueSource(booleans = {true, false})
    void aSegmentIsNotHeldPastTheReservationForAThreadThatNeverAllocates(boolean checked) throws Exception {
        // purge delay 0: the reservation lasts the pool's minimum sweep interval (1 ms)
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked)
                .purgeDelay(Duration.ZERO).build());
                Worker other = new Worker()) {
            Scenario scenario = deadThreadBeside(allocator, other);
            long[] dead = scenario.dead();
            long[] others = scenario.others();
            long segment = scenario.segment();
            try (Worker freer = new Worker()) {
                freer.run(() -> allocator.free(dead[0])); // frees into it, never allocates
                Thread.sleep(5);
                other.run(() -> allocator.free(others[0])); // the first slow path below reaps the dead heap
                long[] more = other.call(() -> {
                    long[] blocks = fill(allocator, 2 * BLOCKS, 3);
                    try {
                        Thread.sleep(5); // the reservation runs out
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    long[] after = fill(allocator, 2 * BLOCKS, 3);
                    long[] all = java.util.Arrays.copyOf(blocks, blocks.length + after.length);
                    System.arraycopy(after, 0, all, blocks.length, after.length);
                    return all;
                });
                assertEquals(other.tid(), Inspect.ownerTid(segment),
                        "past the reservation the segment goes to the heap that needs room:\n"
                                + Inspect.describeSegments(allocator));
                other.run(() -> {
                    freeAll(allocator, dead, 1, 1);
                    freeAll(allocator, others, 2, 1);
                    for (long block : more) {
                        allocator.free(block);
                    }
                });
            }
            allocator.validate();
        }
    }
}
