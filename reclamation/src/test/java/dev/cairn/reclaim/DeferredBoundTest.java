package dev.cairn.reclaim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Outstanding deferred bytes stay under the per-thread limit, and what it costs when readers lag or stall. */
class DeferredBoundTest {

    private static final long LIMIT = 64 * 1024;
    private static final long MAX_ITEM = 4096;
    private static final int WRITER_QUIESCENT_EVERY = 4;

    @Test
    void churnFasterThanReadersQuiesceStaysUnderTheLimit() throws Exception {
        TestSeed.next().run(seed -> {
            AtomicLong freedBytes = new AtomicLong();
            QsbrConfig config = QsbrConfig.builder()
                    .free(a -> freedBytes.addAndGet(sizeOf(a)))
                    .sizeOf(DeferredBoundTest::sizeOf)
                    .deferredBytesLimit(LIMIT)
                    .maxStall(Duration.ofSeconds(20)) // readers always come back: never give up here
                    .build();
            Qsbr domain = Qsbr.create(config);
            Workers workers = new Workers();
            for (int r = 0; r < 2; r++) {
                workers.start("slow-reader-" + r, () -> {
                    QsbrThread h = domain.register();
                    while (!workers.stopped()) {
                        long until = System.nanoTime() + 200_000; // "reads" for 0.2 ms between quiescent points
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                        h.quiescent();
                    }
                    h.unregister();
                });
            }
            AtomicLong deferred = new AtomicLong();
            for (int w = 0; w < 2; w++) {
                SplittableRandom rnd = new SplittableRandom(seed.value() + w);
                workers.start("churn-writer-" + w, () -> {
                    QsbrThread h = domain.register();
                    long local = 0;
                    while (!workers.stopped()) {
                        // an address encodes its size: 16..4096 bytes, so a few dozen frees fill the limit
                        long size = 16L << rnd.nextInt(9);
                        h.defer((local++ << 16) | size);
                        deferred.addAndGet(size);
                        if ((local & (WRITER_QUIESCENT_EVERY - 1)) == 0) {
                            h.quiescent();
                        }
                    }
                    h.unregister();
                });
            }
            Thread.sleep(1500);
            workers.stopAndJoin(30_000);
            domain.synchronize();
            QsbrStats s = domain.stats();
            domain.close();
            System.out.println("churn: " + s);
            // Strictly under the limit while only readers lag. When both writers hit the limit together, each may be
            // what the other waits for; one of them then finishes waiting at its next quiescent point, deferring at
            // most WRITER_QUIESCENT_EVERY more items (of at most MAX_ITEM bytes) before it gets there.
            long bound = LIMIT + WRITER_QUIESCENT_EVERY * MAX_ITEM;
            assertTrue(s.peakDeferredBytes() <= bound, "peak " + s.peakDeferredBytes() + " > " + bound);
            assertEquals(LIMIT, s.deferredBytesLimit());
            assertTrue(s.forcedAdvances() > 0, "the writers outran the readers, so advances were forced");
            assertEquals(0, s.limitOverruns(), "readers kept quiescing; no stall should have given up");
            assertEquals(deferred.get(), freedBytes.get(), "every deferred byte was freed exactly once");
            assertEquals(deferred.get(), s.bytesProcessed());
            assertEquals(0, s.deferredBytes());
        });
    }

    @Test
    void aReaderThatNeverQuiescesCostsWritersBoundedStallsCountedAsOverruns() throws Exception {
        QsbrConfig config = QsbrConfig.builder()
                .free(a -> { })
                .sizeOf(a -> 1024)
                .deferredBytesLimit(8 * 1024)
                .maxStall(Duration.ofMillis(5))
                .build();
        Qsbr domain = Qsbr.create(config);
        CountDownLatch registered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread stuck = new Thread(() -> {
            QsbrThread h = domain.register();
            registered.countDown();
            try {
                release.await(); // online, never quiescent: holds every goal back
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            h.unregister();
        });
        stuck.start();
        registered.await();
        QsbrThread writer = domain.register();
        long start = System.nanoTime();
        for (int i = 0; i < 80; i++) {
            writer.defer(0x1000L * (i + 1));
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        QsbrStats s = domain.stats();
        assertEquals(80, s.deferredItems(), "nothing can be freed while the stuck reader is online");
        assertTrue(s.limitOverruns() >= 1 && s.limitOverruns() <= 10, "one stall per limit's worth: " + s);
        assertTrue(elapsedMillis < 5_000, "stalls are bounded, took " + elapsedMillis + " ms");
        release.countDown();
        stuck.join();
        writer.unregister();
        domain.synchronize();
        assertEquals(0, domain.stats().deferredItems());
        domain.close();
    }

    @Test
    void twoStalledWritersDoNotWaitOnEachOther() throws Exception {
        QsbrConfig config = QsbrConfig.builder()
                .free(a -> { })
                .sizeOf(a -> 1024)
                .deferredBytesLimit(4 * 1024)
                .maxStall(Duration.ofSeconds(30)) // long: only the stalled-peer rule can end these waits quickly
                .build();
        Qsbr domain = Qsbr.create(config);
        CountDownLatch bothRegistered = new CountDownLatch(2);
        Workers workers = new Workers();
        long start = System.nanoTime();
        for (int w = 0; w < 2; w++) {
            workers.start("never-quiescent-writer-" + w, () -> {
                QsbrThread h = domain.register();
                bothRegistered.countDown();
                bothRegistered.await();
                for (int i = 0; i < 40; i++) { // never reaches a quiescent point: each blocks the other
                    h.defer(0x1000L * (i + 1));
                }
                h.detach();
                h.unregister();
            });
        }
        workers.stopAndJoin(25_000);
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        domain.synchronize();
        QsbrStats s = domain.stats();
        domain.close();
        assertTrue(elapsedMillis < 20_000, "writers waited on each other for " + elapsedMillis + " ms");
        assertEquals(0, s.limitOverruns(), "no wait ran out of time: " + s);
        assertEquals(0, s.deferredItems());
    }

    private static long sizeOf(long address) {
        return address & 0xFFFF;
    }
}
