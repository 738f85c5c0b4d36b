package dev.cairn.reclaim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * Readers walk a table of pointers to off-heap nodes while writers replace nodes and free the old ones through
 * the domain; "free" poisons the node and returns it to a pool for reuse. With the protocol, no reader may ever
 * see poison or a node reused under it. With the protocol violated (free right after unlinking), they must, or
 * this test would prove nothing.
 */
class LockFreeReclamationTest {

    private static final int ROOTS = 64;
    private static final int READERS = 3;
    private static final int WRITERS = 2;

    /** How writers release the node they unlinked. */
    enum Mode { DEFER_WITH_GOAL, DEFER_WITH_DEFERRED_ADVANCE, FREE_AT_ONCE }

    /** Outcome counters of one run. */
    record Result(long reads, long poisoned, long reused, long replaced, QsbrStats stats) {
    }

    @Test
    void readersNeverSeeFreedMemoryWhenWritersDefer() throws Exception {
        TestSeed.next().run(seed -> {
            Result r = runWorkload(seed, Duration.ofMillis(1500), Mode.DEFER_WITH_GOAL,
                    Mode.DEFER_WITH_DEFERRED_ADVANCE);
            System.out.println("lock-free, deferred: " + r);
            assertEquals(0, r.poisoned(), "readers saw poison");
            assertEquals(0, r.reused(), "readers saw a node reused under them");
            assertTrue(r.replaced() > 1_000, "writers made too little progress: " + r.replaced());
            assertTrue(r.reads() > 1_000, "readers made too little progress: " + r.reads());
            assertTrue(r.stats().itemsProcessed() > 0, "nothing was ever freed");
            assertEquals(0, r.stats().deferredItems(), "shutdown ran everything");
        });
    }

    @Test
    void theTestSeesFreedMemoryWhenTheProtocolIsViolated() throws Exception {
        TestSeed.next().run(seed -> {
            Result r = null;
            for (int attempt = 0; attempt < 10 && (r == null || r.poisoned() + r.reused() == 0); attempt++) {
                r = runWorkload(seed, Duration.ofMillis(500), Mode.FREE_AT_ONCE, Mode.FREE_AT_ONCE);
            }
            System.out.println("lock-free, freed at once (must fail): " + r);
            assertTrue(r.poisoned() + r.reused() > 0, "freeing at once was never caught: the test is blind");
        });
    }

    private static Result runWorkload(TestSeed seed, Duration length, Mode writer0, Mode writer1) throws Exception {
        int poolNodes = 8192;
        AtomicLong poisoned = new AtomicLong();
        AtomicLong reused = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        AtomicLong replaced = new AtomicLong();
        AtomicLong ids = new AtomicLong(1);
        try (NodePool pool = new NodePool(poolNodes)) {
            QsbrConfig config = QsbrConfig.builder()
                    .free(pool::free)
                    .sizeOf(a -> NodePool.NODE_BYTES)
                    .deferredBytesLimit(256 * NodePool.NODE_BYTES)
                    .queueThreshold(64)
                    .advanceInterval(8)
                    .build();
            Qsbr domain = Qsbr.create(config);
            AtomicLongArray roots = new AtomicLongArray(ROOTS);
            for (int i = 0; i < ROOTS; i++) {
                long n = pool.allocate();
                pool.fill(n, ids.getAndIncrement());
                roots.set(i, n);
            }
            Workers workers = new Workers();
            for (int r = 0; r < READERS; r++) {
                workers.start("reader-" + r, () -> {
                    QsbrThread h = domain.register();
                    long local = 0;
                    while (!workers.stopped()) {
                        for (int i = 0; i < ROOTS; i++) {
                            long node = roots.getAcquire(i);
                            int verdict = pool.check(node);
                            if (verdict == 1) {
                                poisoned.incrementAndGet();
                            } else if (verdict == 2) {
                                reused.incrementAndGet();
                            }
                            local++;
                        }
                        h.quiescent();
                    }
                    reads.addAndGet(local);
                    h.unregister();
                });
            }
            Mode[] modes = {writer0, writer1};
            for (int w = 0; w < WRITERS; w++) {
                Mode mode = modes[w];
                SplittableRandom rnd = new SplittableRandom(seed.value() + w);
                workers.start("writer-" + w, () -> {
                    QsbrThread h = domain.register();
                    long local = 0;
                    while (!workers.stopped()) {
                        long fresh = pool.allocate();
                        if (fresh == 0) { // pool exhausted: let readers catch up
                            h.quiescent();
                            h.processDeferred();
                            Thread.onSpinWait();
                            continue;
                        }
                        pool.fill(fresh, ids.getAndIncrement());
                        long old = roots.getAndSet(rnd.nextInt(ROOTS), fresh); // unlink (volatile)
                        switch (mode) {
                            case DEFER_WITH_GOAL -> h.defer(old, domain.advance());
                            case DEFER_WITH_DEFERRED_ADVANCE -> h.defer(old);
                            case FREE_AT_ONCE -> pool.free(old);
                        }
                        local++;
                        if ((local & 15) == 0) {
                            h.quiescent();
                        }
                    }
                    replaced.addAndGet(local);
                    h.unregister();
                });
            }
            Thread.sleep(length.toMillis());
            workers.stopAndJoin(30_000);
            domain.synchronize();
            QsbrStats stats = domain.stats();
            domain.close();
            return new Result(reads.get(), poisoned.get(), reused.get(), replaced.get(), stats);
        }
    }
}
