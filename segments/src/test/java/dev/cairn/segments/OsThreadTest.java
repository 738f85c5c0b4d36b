package dev.cairn.segments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.segments.internal.Platform;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link OsThread#currentId()}: one id per OS thread, and a virtual thread gets its carrier's. */
class OsThreadTest {

    @Test
    void availableWhereTheCLibraryHasPthreads() {
        if (Platform.mmapSupported()) { // Linux with glibc or musl: pthread_self is always there
            assertTrue(OsThread.available(), Platform.describe());
        }
        assertEquals(OsThread.available(), OsThread.currentId() != 0);
    }

    @Test
    void aThreadKeepsItsIdAndTwoLiveThreadsHaveDifferentOnes() throws Exception {
        assumeTrue(OsThread.available());
        long mine = OsThread.currentId();
        assertEquals(mine, OsThread.currentId());
        AtomicLong other = new AtomicLong();
        CountDownLatch read = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread thread = Thread.ofPlatform().start(() -> {
            other.set(OsThread.currentId());
            read.countDown();
            try {
                done.await(); // alive while the ids are compared: an ended thread's id may be reused
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        read.await();
        assertNotEquals(0, other.get());
        assertNotEquals(mine, other.get());
        done.countDown();
        thread.join();
    }

    @Test
    void virtualThreadsSeeTheirCarriersNotThemselves() throws Exception {
        assumeTrue(OsThread.available());
        int threads = 2_000;
        Set<Long> ids = ConcurrentHashMap.newKeySet();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < threads; i++) {
                executor.submit(() -> {
                    ids.add(OsThread.currentId());
                    Thread.yield(); // may resume on another carrier: still one of the carriers
                    ids.add(OsThread.currentId());
                });
            }
        }
        // The default scheduler never has more than 256 carriers (its maximum pool size; usually the processor
        // count): an id per virtual thread would give 2,000.
        System.out.println("OsThreadTest: " + threads + " virtual threads ran on " + ids.size() + " OS threads ("
                + Runtime.getRuntime().availableProcessors() + " processors)");
        assertTrue(ids.size() <= 256, ids.size() + " ids");
        assertTrue(!ids.contains(0L));
    }
}
