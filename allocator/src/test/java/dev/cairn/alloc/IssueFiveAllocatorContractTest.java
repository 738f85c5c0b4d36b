package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.reclaim.QsbrThread;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 5's allocator part through the public API: {@code Allocator.freeDelayed} frees a block once every thread
 * of that allocator has passed a quiescent point, and each allocator (domain) has its own QSBR.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IssueFiveAllocatorContractTest {

    /** A reader of {@code allocator}: online until told, quiesces once when told, then ends. */
    private static final class Reader {
        final CountDownLatch online = new CountDownLatch(1);
        final CountDownLatch quiesce = new CountDownLatch(1);
        final CountDownLatch quiesced = new CountDownLatch(1);
        final CountDownLatch end = new CountDownLatch(1);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread thread;

        Reader(Allocator allocator) throws InterruptedException {
            thread = Thread.ofPlatform().start(() -> {
                try {
                    QsbrThread h = allocator.qsbrThread();
                    online.countDown();
                    quiesce.await();
                    h.quiescent();
                    quiesced.countDown();
                    end.await();
                    h.unregister();
                } catch (Throwable e) {
                    failure.set(e);
                    online.countDown();
                    quiesced.countDown();
                }
            });
            online.await();
        }

        void quiesceNow() throws InterruptedException {
            quiesce.countDown();
            quiesced.await();
        }

        void finish() throws InterruptedException {
            quiesce.countDown();
            end.countDown();
            thread.join();
            assertNull(failure.get());
        }
    }

    /**
     * Runs the calling thread's due delayed frees: {@code collect} hands the thread's filling batch to QSBR and runs
     * what is due (a lone {@code quiescent()} does not: the batch is handed over at slow paths, see
     * docs/design/allocator.md, "Batches").
     */
    private static void quiescePoint(Allocator allocator) {
        allocator.collect(false);
    }

    @Test
    void aBlockIsFreedOnlyAfterEveryOnlineReaderOfItsAllocatorQuiesced() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            Reader reader = new Reader(allocator);
            long p = allocator.malloc(64);
            allocator.freeDelayed(p);
            assertFalse(allocator.isLive(p), "waiting for the grace period counts as not allocated");
            // a second free of it, delayed or not, is refused from the first call on
            assertThrows(IllegalArgumentException.class, () -> allocator.free(p));
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(p));
            long q = allocator.malloc(64);
            assertNotSame(p, q, "the block was reused while a reader may still hold it");
            quiescePoint(allocator);
            assertEquals(1, allocator.stats().delayedFreesPending(), "freed before the reader quiesced");
            reader.quiesceNow();
            quiescePoint(allocator);
            assertEquals(0, allocator.stats().delayedFreesPending(), "not freed after the reader quiesced");
            reader.finish();
            allocator.free(q);
        }
    }

    @Test
    void eachAllocatorHasItsOwnDomainAndOneDomainsReadersNeverHoldBackAnother() throws Exception {
        try (Allocator a = Allocator.create(); Allocator b = Allocator.create()) {
            assertNotSame(a.qsbr(), b.qsbr());
            Reader stuckInA = new Reader(a); // online in a, never quiesces until the end
            long pb = b.malloc(100);
            b.freeDelayed(pb);
            quiescePoint(b);
            assertEquals(0, b.stats().delayedFreesPending(), "a reader of another allocator held the free back");
            long pa = a.malloc(100);
            a.freeDelayed(pa);
            quiescePoint(a);
            assertEquals(1, a.stats().delayedFreesPending(), "freed while a's reader was online");
            stuckInA.finish(); // quiesces, then unregisters
            quiescePoint(a);
            assertEquals(0, a.stats().delayedFreesPending());
        }
    }

    @Test
    void aThreadThatOnlyFreesWithDelayHoldsNobodyBack() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            CountDownLatch freed = new CountDownLatch(1);
            CountDownLatch end = new CountDownLatch(1);
            Thread freer = Thread.ofPlatform().start(() -> {
                long p = allocator.malloc(32);
                allocator.freeDelayed(p);
                freed.countDown();
                try {
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            freed.await();
            long goal = allocator.qsbr().advance();
            assertTrue(allocator.qsbr().poll(goal), "a thread that only called freeDelayed holds the domain back");
            end.countDown();
            freer.join();
            allocator.collect(false); // reaps the dead freer's heap, whose batch then runs
            assertEquals(0, allocator.stats().delayedFreesPending(), "a dead freer's delayed free never ran");
        }
    }

    @Test
    void badDelayedFreesAreRefusedAndZeroIsANoOp() throws Exception {
        Allocator other = Allocator.create();
        long foreign = other.malloc(16);
        try (Allocator allocator = Allocator.create()) {
            allocator.freeDelayed(0);
            long p = allocator.malloc(48);
            for (long bad : new long[] {p + 8, p + 16, 8, -16, foreign}) {
                assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(bad),
                        Long.toHexString(bad));
            }
            assertTrue(allocator.isLive(p), "a refused delayed free touched another block");
            allocator.free(p);
            assertThrows(IllegalArgumentException.class, () -> allocator.freeDelayed(p), "double free");
        }
        other.free(foreign);
        other.close();
        Allocator closed = Allocator.create();
        long q = closed.malloc(16);
        closed.close();
        closed.freeDelayed(0);
        assertThrows(IllegalStateException.class, () -> closed.freeDelayed(q));
    }

    @Test
    void theReadersHandleIsTheOneTheCallerRegistered() {
        try (Allocator allocator = Allocator.create()) {
            QsbrThread mine = allocator.qsbr().register();
            assertSame(mine, allocator.qsbrThread(), "freeDelayed's layer failed to reuse the caller's handle");
            long p = allocator.malloc(16);
            allocator.freeDelayed(p);
            mine.unregister();
            allocator.collect(false);
            assertEquals(0, allocator.stats().delayedFreesPending());
        }
    }
}
