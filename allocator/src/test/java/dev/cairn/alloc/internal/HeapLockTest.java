package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shared heaps' lock: exclusive, reentrant, owned, and waiters that get it in the end whether their wakeup came or
 * was missed (the unlock does not fence before it looks for waiters: see HeapLock).
 */
class HeapLockTest {

    @Test
    void reentrantAndOwned() throws Exception {
        HeapLock lock = new HeapLock();
        assertFalse(lock.isHeldByCurrentThread());
        assertTrue(lock.tryLock());
        assertTrue(lock.tryLock(), "reentrant");
        assertTrue(lock.isHeldByCurrentThread());
        AtomicReference<Boolean> otherGot = new AtomicReference<>();
        Thread other = Thread.ofPlatform().start(() -> otherGot.set(lock.tryLock()));
        other.join();
        assertFalse(otherGot.get(), "held by this thread");
        Thread stranger = Thread.ofPlatform().start(() -> assertThrows(IllegalMonitorStateException.class, lock::unlock));
        stranger.join();
        lock.unlock();
        assertTrue(lock.isHeldByCurrentThread(), "one hold left");
        lock.unlock();
        assertFalse(lock.isHeldByCurrentThread());
        assertThrows(IllegalMonitorStateException.class, lock::unlock);
        Thread.ofPlatform().start(() -> {
            otherGot.set(lock.tryLock());
            lock.unlock();
        }).join();
        assertTrue(otherGot.get(), "free again");
    }

    /**
     * Threads increment a plain counter under the lock, some with {@code tryLock} and some with {@code lock}, many
     * times: no increment may be lost, and every waiter gets the lock in the end.
     */
    @ParameterizedTest(name = "virtual {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void excludesAndLetsEveryWaiterIn(boolean virtual) throws Exception {
        HeapLock lock = new HeapLock();
        int threads = 6;
        int rounds = 50_000;
        long[] counter = new long[1];
        AtomicInteger tried = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            boolean waits = t % 2 == 0;
            Runnable body = () -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        if (waits) {
                            lock.lock();
                        } else {
                            while (!lock.tryLock()) {
                                // A virtual thread that spun here without yielding would keep its carrier from a
                                // holder that yielded below: with every carrier spinning, nobody would let go.
                                tried.incrementAndGet();
                                Thread.yield();
                            }
                        }
                        try {
                            assertTrue(lock.isHeldByCurrentThread());
                            counter[0]++;
                            if (i % 1000 == 0) {
                                Thread.yield(); // a holder that leaves its CPU: others queue and park
                            }
                        } finally {
                            lock.unlock();
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            };
            running.add(virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body));
        }
        for (Thread thread : running) {
            thread.join();
        }
        assertNull(failure.get());
        assertEquals((long) threads * rounds, counter[0], "an increment was lost: two holders at once");
        assertTrue(lock.tryLock(), "free at the end");
        lock.unlock();
    }

    /**
     * A waiter whose interrupt flag is set parks like any other (a park returns at once while the flag is set: a
     * waiter that kept it would spin, and a virtual one would keep its carrier from the holder; the torture test's
     * interrupted virtual threads did just that), gets the lock once it is free, and still has its flag afterwards.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void anInterruptedWaiterParksAndKeepsItsFlag() throws Exception {
        HeapLock lock = new HeapLock();
        assertTrue(lock.tryLock());
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        AtomicReference<Boolean> flagAfter = new AtomicReference<>();
        java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(1);
        Thread waiter = Thread.ofPlatform().start(() -> {
            Thread.currentThread().interrupt();
            waiting.countDown();
            lock.lock();
            try {
                flagAfter.set(Thread.currentThread().isInterrupted());
            } finally {
                lock.unlock();
            }
        });
        waiting.await();
        Thread.sleep(50); // into its parks
        long cpuBefore = bean.getThreadCpuTime(waiter.threadId());
        Thread.sleep(300);
        long cpuWaiting = bean.getThreadCpuTime(waiter.threadId()) - cpuBefore;
        lock.unlock();
        waiter.join();
        assertTrue(cpuWaiting < 150_000_000L, "the interrupted waiter spun: " + cpuWaiting / 1_000_000 + " ms of CPU in "
                + "300 ms of waiting");
        assertTrue(flagAfter.get(), "its interrupt flag is set again once it holds the lock");
    }
}
