package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A thread that freed most of what it had and then went idle would keep its retired pages committed: only its own
 * slow path purged them, and it has none while it waits. {@code collect} from another thread purges them for it, and
 * so do other threads' allocation slow paths, a few pages per idle heap once per purge delay.
 */
class IdleOwnerPurgeTest {

    private static final int BLOCKS = 40_000;
    private static final int KEEP_EVERY = 2_000; // one block in 2,000 stays: its page stays, and so does the segment

    private static long size(int i) {
        return 16 + (i % 64) * 16L; // 16 to 1,024 bytes: about 20 MiB in all
    }

    /** A thread that allocates about 20 MiB, frees all but one block in 2,000, idles until resumed, then works again. */
    private static final class IdleWorker {
        final CountDownLatch freed = new CountDownLatch(1);
        final CountDownLatch resume = new CountDownLatch(1);
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final Thread thread;

        IdleWorker(Allocator allocator) {
            thread = Thread.ofPlatform().start(() -> {
                try {
                    Heap heap = allocator.heap();
                    List<Long> kept = new ArrayList<>();
                    for (int round = 0; round < 2; round++) {
                        List<Long> blocks = new ArrayList<>();
                        for (int i = 0; i < BLOCKS; i++) {
                            long p = heap.malloc(size(i));
                            Blocks.fill(p, size(i), i);
                            blocks.add(p);
                        }
                        for (int i = 0; i < BLOCKS; i++) {
                            Blocks.check(blocks.get(i), size(i), i);
                            if (round == 0 && i % KEEP_EVERY == 0) {
                                kept.add(blocks.get(i));
                            } else {
                                heap.free(blocks.get(i));
                            }
                        }
                        if (round == 0) {
                            freed.countDown();
                            resume.await(); // idle, alive, no slow path: the purge is someone else's
                        }
                    }
                    for (long p : kept) {
                        heap.free(p);
                    }
                } catch (Throwable e) {
                    error.set(e);
                } finally {
                    freed.countDown();
                }
            });
        }

        /** Lets it allocate again from the purged pages (contents checked) and end. */
        void finish() throws InterruptedException {
            resume.countDown();
            thread.join();
            if (error.get() != null) {
                throw new AssertionError(error.get());
            }
        }
    }

    @Test
    void anotherThreadsCollectPurgesTheRetiredPagesOfAnIdleThread() throws Exception {
        AllocatorConfig config = AllocatorConfig.builder().purgeDelay(Duration.ofMillis(20)).build();
        try (Allocator allocator = Allocator.create(config)) {
            IdleWorker worker = new IdleWorker(allocator);
            worker.freed.await();
            long before = allocator.stats().committedBytes();
            // Past ten purge delays: a burst of retirements holds its segment's pages at most that long (RetiredPages,
            // "A busy segment's pages wait"; some 330 retirements would hold them 33 delays without that bound).
            Thread.sleep(300);
            assertEquals(before, allocator.stats().committedBytes(), "the idle thread's pages purged themselves");
            allocator.collect(false); // only what is due: all of it by now
            long after = allocator.stats().committedBytes();
            assertTrue(before - after >= (10L << 20), "collect purged " + (before - after) + " of " + before
                    + " committed bytes");
            worker.finish();
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void otherThreadsSlowPathsPurgeTheRetiredPagesOfAnIdleThread() throws Exception {
        AllocatorConfig config = AllocatorConfig.builder().purgeDelay(Duration.ofMillis(20)).build();
        try (Allocator allocator = Allocator.create(config)) {
            IdleWorker worker = new IdleWorker(allocator);
            worker.freed.await();
            long idle = allocator.stats().committedBytes();
            // This thread works in a bin of its own (4 KiB blocks), its slow paths running until the idle thread's
            // pages went back (once it has been idle for ten purge delays, 16 per delay: about 600 ms) or 20 s
            // passed on a machine too slow to tell.
            Heap heap = allocator.heap();
            long[] blocks = new long[64];
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (idle - allocator.stats().committedBytes() < (10L << 20) && System.nanoTime() < deadline) {
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = heap.malloc(4096);
                }
                for (long p : blocks) {
                    heap.free(p);
                }
                Thread.sleep(1);
            }
            long after = allocator.stats().committedBytes();
            assertTrue(idle - after >= (10L << 20), "other slow paths purged " + (idle - after) + " of " + idle
                    + " committed bytes of the idle thread");
            worker.finish();
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }
}
