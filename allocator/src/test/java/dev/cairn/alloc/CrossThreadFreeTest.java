package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Threads in a ring: each allocates content-filled blocks, hands them to the next thread, and frees (after
 * checking) what the previous one handed it. Every free is a cross-thread free; blocks cross pages, sizes and
 * threads while their owners keep allocating. Four rounds of fresh threads on one allocator (heaps of ended
 * threads stay behind: abandonment is a later issue); validate and empty stats after each.
 */
class CrossThreadFreeTest {

    private static final int ROUNDS = 4;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void ringOfThreadsFreesEachOthersBlocks(boolean checked) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            for (int round = 0; round < ROUNDS; round++) {
                runRing(allocator, round);
                allocator.validate();
            }
        }
    }

    private static void runRing(Allocator allocator, int round) throws Exception {
        int threads = 4;
        int perThread = 40_000;
        List<BlockingQueue<long[]>> inboxes = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            inboxes.add(new ArrayBlockingQueue<>(1024));
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger finished = new AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int me = t;
            Thread worker = new Thread(() -> {
                try {
                    SplittableRandom random = new SplittableRandom(me * 31L + 7 + round * 1_000_003L);
                    BlockingQueue<long[]> out = inboxes.get((me + 1) % threads);
                    BlockingQueue<long[]> in = inboxes.get(me);
                    Heap heap = allocator.heap();
                    List<long[]> local = new ArrayList<>();
                    int received = 0;
                    for (int i = 0; i < perThread; i++) {
                        long size = random.nextInt(8) == 0 ? 1 + random.nextInt(20_000) : 1 + random.nextInt(600);
                        long p = heap.malloc(size);
                        Blocks.fill(p, size, p);
                        if (random.nextBoolean()) {
                            while (!out.offer(new long[] {p, size})) {
                                received += drain(allocator, in);
                            }
                        } else {
                            local.add(new long[] {p, size});
                        }
                        if (local.size() > 100) {
                            long[] b = local.remove(random.nextInt(local.size()));
                            Blocks.check(b[0], b[1], b[0]);
                            heap.free(b[0]);
                        }
                        received += drain(allocator, in);
                    }
                    for (long[] b : local) {
                        Blocks.check(b[0], b[1], b[0]);
                        heap.free(b[0]);
                    }
                    // Keep draining until every thread is done: a neighbour may still be handing blocks over.
                    finished.incrementAndGet();
                    while (finished.get() < threads) {
                        received += drain(allocator, in);
                        Thread.onSpinWait();
                    }
                    received += drain(allocator, in);
                    assertTrue(received > 0);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    finished.set(threads * 2);
                }
            });
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("worker failed", failure.get());
        }
        allocator.validate();
        AllocatorStats stats = allocator.stats();
        assertEquals(0, stats.blocksInUse() - pendingRemote(allocator), stats.toJson());
        assertTrue(stats.remoteFrees() > 0);
    }

    private static int drain(Allocator allocator, BlockingQueue<long[]> in) {
        int count = 0;
        long[] b;
        while ((b = in.poll()) != null) {
            Blocks.check(b[0], b[1], b[0]);
            allocator.free(b[0]);
            count++;
        }
        return count;
    }

    /** Blocks freed remotely but not yet collected still count as used; the walk tells how many are live. */
    private static long pendingRemote(Allocator allocator) {
        long[] live = {0};
        allocator.visitBlocks((address, usable, bin, heap) -> {
            live[0]++;
            return true;
        });
        return allocator.stats().blocksInUse() - live[0];
    }
}
