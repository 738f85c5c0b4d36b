package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/** {@link AllocatorConfig#commitLimit()} under threads that reach it together. */
class CommitLimitTest {

    private static final long LIMIT = 48L << 20;

    @Test
    void threadsThatReachTheLimitTogetherNeverPassIt() throws Exception {
        // Each thread's commit checked the limit and then committed: threads that checked together all committed,
        // and passed the limit by a page or more (seen in 6 rounds of 20 on 2 cores).
        for (int round = 0; round < 20; round++) {
            try (Allocator allocator = Allocator.create(AllocatorConfig.builder().commitLimit(LIMIT).build())) {
                int threads = 4;
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Thread> running = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long size = 20_000 + 16 * t; // a size class each: every thread commits pages of its own
                    Thread thread = new Thread(() -> fillToTheLimit(allocator, size, start));
                    thread.start();
                    running.add(thread);
                }
                for (Thread thread : running) {
                    thread.join();
                }
                // malloc only: no segment was exposed, so everything committed counts against the limit
                long committed = allocator.stats().committedBytes();
                assertTrue(committed <= LIMIT, "round " + round + ": " + committed + " bytes committed, limit "
                        + LIMIT);
                allocator.validate();
                // the allocator keeps working once the blocks are freed
                allocator.free(allocator.malloc(LIMIT / 2));
                allocator.free(allocator.malloc(20_000));
            }
        }
    }

    private static void fillToTheLimit(Allocator allocator, long size, CyclicBarrier start) {
        List<Long> blocks = new ArrayList<>();
        try {
            start.await();
            while (true) {
                blocks.add(allocator.malloc(size));
            }
        } catch (OutOfMemoryError expected) {
            assertTrue(expected.getMessage().contains("limit of " + LIMIT), expected.getMessage());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        blocks.forEach(allocator::free);
    }
}
