package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.cairn.alloc.Allocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A thread giving a segment back while another release holds the store's write side waits for that release
 * ({@code SegmentStore.drainReleases}). It spun (and {@code Thread.yield} is not enough: the yielded waiters keep
 * their carrier's queue busy), so when the holder was a virtual thread that had been unmounted (blocked on the store's monitor, or yielding while its unmap waits for checks in flight), virtual
 * threads spinning on every carrier kept it from ever running again, and all of them hung (the stress driver:
 * virtual threads freeing huge blocks while others collected, 16 threads, 60% virtual, seed 56665221). Now the
 * waiters park. Deterministic: the test holds the store's monitor until every carrier runs a waiter.
 */
class ReleaseWaitYieldsTest {

    private static final long HUGE = 1L << 20; // above LARGE_MAX: a segment of its own, given back at its free

    @Test
    void waitersForAVirtualThreadsReleaseLeaveItACarrier() throws Exception {
        waitersLeaveTheHolderACarrier(false);
    }

    /**
     * The same with waiters whose interrupt flag is set: {@code parkNanos} returns at once while it is, so they spun
     * as before and the holder never ran again (found by AllocatorTortureTest's interrupted threads). The flag must
     * still be set when the free returns.
     */
    @Test
    void interruptedWaitersLeaveTheHolderACarrierAndKeepTheirFlag() throws Exception {
        waitersLeaveTheHolderACarrier(true);
    }

    private static void waitersLeaveTheHolderACarrier(boolean interrupted) throws Exception {
        AllocatorImpl allocator = (AllocatorImpl) Allocator.create();
        int waiters = 2 * Runtime.getRuntime().availableProcessors() + 2; // more than the carriers
        long[] blocks = new long[1 + waiters];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = allocator.malloc(HUGE);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        SegmentStore store = allocator.store();
        List<Thread> threads = new ArrayList<>();
        Thread holder;
        synchronized (store) { // the holder's release blocks on it with the write side held, and unmounts
            holder = Thread.ofVirtual().start(() -> run(failure, () -> allocator.free(blocks[0])));
            threads.add(holder);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (holder.getState() != Thread.State.BLOCKED && holder.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            System.out.println("holder " + holder.getState() + " at " + Arrays.toString(holder.getStackTrace()));
            for (int i = 0; i < waiters; i++) {
                long block = blocks[1 + i];
                threads.add(Thread.ofVirtual().start(() -> run(failure, () -> {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                    allocator.free(block);
                    if (interrupted && !Thread.currentThread().isInterrupted()) {
                        throw new AssertionError("free() cleared the caller's interrupt flag");
                    }
                })));
            }
            Thread.sleep(200); // the waiters take every carrier
        }
        for (Thread t : threads) {
            t.join(5_000);
        }
        for (Thread t : threads) {
            assertFalse(t.isAlive(), "a release is stuck: " + Arrays.toString(t.getStackTrace()));
        }
        assertNull(failure.get());
        allocator.collect(true);
        assertEquals(0, allocator.stats().blocksInUse());
        allocator.validate();
        allocator.close();
    }

    private static void run(AtomicReference<Throwable> failure, Runnable body) {
        try {
            body.run();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }
}
