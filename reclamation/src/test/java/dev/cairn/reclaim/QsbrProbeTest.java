package dev.cairn.reclaim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Probes of the public QSBR API: misuse, progress, bounds, with an oracle where it matters. */
class QsbrProbeTest {

    private static void run(Runnable r) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join(10_000);
        assertFalse(t.isAlive(), "thread hung");
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    @Test
    void pollGoalsOutsideTheDomainAreRejected() {
        try (Qsbr q = Qsbr.create()) {
            for (long bad : new long[] {0, 2, -1, -3, Long.MIN_VALUE, Long.MAX_VALUE, 1001}) {
                assertThrows(IllegalArgumentException.class, () -> q.poll(bad), "goal " + bad);
            }
            assertTrue(q.poll(1));
            assertFalse(q.poll(3)); // the next deferred goal: accepted, not reached
            long g = q.advance();
            assertTrue(q.poll(g)); // nobody online
        }
    }

    @Test
    void aMaxStallOfForeverIsAcceptedAndRegistrationStillWorks() throws Exception {
        QsbrConfig config = QsbrConfig.builder().maxStall(ChronoUnit.FOREVER.getDuration()).build();
        try (Qsbr q = Qsbr.create(config)) {
            run(() -> {
                QsbrThread me = q.register();
                me.defer(() -> { });
                me.unregister();
            });
            assertEquals(0, q.stats().threadsRegistered());
        }
        // and a writer over the limit waits for a quiescing reader without ever timing out
        QsbrConfig limited = config.toBuilder().free(a -> { }).sizeOf(a -> 1024).deferredBytesLimit(4096).build();
        try (Qsbr q = Qsbr.create(limited)) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread reader = new Thread(() -> {
                QsbrThread me = q.register();
                while (!stop.get()) {
                    me.quiescent();
                    Thread.yield();
                }
                me.unregister();
            });
            reader.start();
            run(() -> {
                QsbrThread me = q.register();
                for (int i = 0; i < 100; i++) {
                    me.defer(16L * (i + 1));
                }
                me.unregister();
            });
            stop.set(true);
            reader.join();
            assertEquals(0, q.stats().limitOverruns(), q.stats().toString());
        }
    }

    @Test
    void registerTwiceAndDoubleUnregisterAreRefusedWithoutCorruption() throws Exception {
        try (Qsbr q = Qsbr.create()) {
            run(() -> {
                QsbrThread me = q.register();
                assertThrows(IllegalStateException.class, q::register);
                me.detach();
                assertThrows(IllegalStateException.class, me::detach);
                me.attach();
                assertThrows(IllegalStateException.class, me::attach);
                me.unregister();
                assertThrows(IllegalStateException.class, me::unregister);
                assertThrows(IllegalStateException.class, me::quiescent); // -ea in tests
                QsbrThread again = q.register();
                again.unregister();
            });
            assertEquals(0, q.stats().threadsRegistered());
        }
    }

    @Test
    void aThrowingTaskIsReportedAndTheOthersStillRun() throws Exception {
        try (Qsbr q = Qsbr.create()) {
            AtomicInteger ran = new AtomicInteger();
            run(() -> {
                QsbrThread me = q.register();
                long g = q.advance();
                me.defer(ran::incrementAndGet, g);
                me.defer(() -> {
                    throw new IllegalStateException("boom");
                }, g);
                me.defer(ran::incrementAndGet, g);
                RuntimeException e = assertThrows(RuntimeException.class, me::quiescent);
                assertEquals("boom", e.getMessage());
                me.quiescent(); // not due again until the next advance? process explicitly
                me.processDeferred();
                assertEquals(2, ran.get());
                assertEquals(0, q.stats().deferredItems());
                me.unregister();
            });
        }
    }

    @Test
    void reentrantTasks() throws Exception {
        try (Qsbr q = Qsbr.create()) {
            AtomicInteger ran = new AtomicInteger();
            List<Throwable> seen = new ArrayList<>();
            run(() -> {
                QsbrThread me = q.register();
                long g = q.advance();
                me.defer(() -> {
                    me.defer(ran::incrementAndGet, q.advance());
                    assertTrue(q.poll(1));
                    q.poll(q.writeSequence());
                    try {
                        q.synchronize();
                    } catch (IllegalStateException e) {
                        seen.add(e);
                    }
                    try {
                        me.unregister();
                    } catch (IllegalStateException e) {
                        seen.add(e);
                    }
                    ran.incrementAndGet();
                }, g);
                me.quiescent();
                assertEquals(1, ran.get());
                assertEquals(2, seen.size());
                q.advance();
                me.quiescent();
                assertEquals(2, ran.get());
                me.unregister();
            });
        }
    }

    @Test
    void synchronizeFromAnOnlineThreadThrowsAndFromOfflineWorks() throws Exception {
        try (Qsbr q = Qsbr.create()) {
            run(() -> {
                QsbrThread me = q.register();
                assertThrows(IllegalStateException.class, q::synchronize);
                me.detach();
                q.synchronize();
                me.attach();
                me.unregister();
                q.synchronize();
            });
        }
    }

    @Test
    void closeWithALiveRegisteredThreadThrowsAndLaterCloses() throws Exception {
        Qsbr q = Qsbr.create();
        CountDownLatch registered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger ran = new AtomicInteger();
        Thread t = new Thread(() -> {
            QsbrThread me = q.register();
            me.defer(ran::incrementAndGet);
            registered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        t.start();
        registered.await();
        assertThrows(IllegalStateException.class, q::close);
        release.countDown();
        t.join();
        q.close(); // the dead thread is reaped, its task runs
        assertEquals(1, ran.get());
        assertThrows(IllegalStateException.class, q::register);
        q.close();
        long g = q.advance();
        assertTrue(q.poll(g));
        q.synchronize();
        assertEquals(0, q.reapDeadThreads());
    }

    @Test
    void aThreadThatDiesOnlineStopsBlocking() throws Exception {
        try (Qsbr q = Qsbr.create()) {
            CountDownLatch up = new CountDownLatch(1);
            CountDownLatch die = new CountDownLatch(1);
            Thread t = Thread.ofVirtual().start(() -> {
                q.register();
                up.countDown();
                try {
                    die.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            up.await();
            long g = q.advance();
            assertFalse(q.poll(g));
            die.countDown();
            t.join();
            assertTrue(q.poll(g));
            assertEquals(1, q.stats().deadThreadsDetected());
        }
    }

    /** Concurrent churn with an oracle: a reader's held node must never be freed while held. */
    @Test
    void churnOracle() throws Exception {
        long seed = System.nanoTime();
        System.out.println("QsbrProbeTest.churnOracle seed=" + seed);
        final int nodes = 64;
        AtomicReferenceArray<long[]> shared = new AtomicReferenceArray<>(nodes);
        for (int i = 0; i < nodes; i++) {
            shared.set(i, new long[] {1});
        }
        AtomicLong violations = new AtomicLong();
        AtomicLong freed = new AtomicLong();
        Qsbr q = Qsbr.create(QsbrConfig.builder().initialSlots(1).queueThreshold(8).build());
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int w = 0; w < 2; w++) {
            long s = seed + w;
            threads.add(new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(s);
                QsbrThread me = q.register();
                me.detach();
                me.attach();
                try {
                    while (!stop.get()) {
                        int i = rnd.nextInt(nodes);
                        long[] fresh = new long[] {1};
                        long[] old = shared.getAndSet(i, fresh);
                        if (rnd.nextBoolean()) {
                            me.defer(() -> {
                                old[0] = 0;
                                freed.incrementAndGet();
                            });
                        } else {
                            long g = q.advance();
                            me.defer(() -> {
                                old[0] = 0;
                                freed.incrementAndGet();
                            }, g);
                        }
                        me.quiescent();
                    }
                    me.unregister();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        threads.add(new Thread(() -> { // an unregistered writer that polls and frees itself
            SplittableRandom rnd = new SplittableRandom(seed + 50);
            try {
                while (!stop.get()) {
                    long[] old = shared.getAndSet(rnd.nextInt(nodes), new long[] {1});
                    long g = q.advance();
                    long deadline = System.nanoTime() + 10_000_000_000L;
                    while (!q.poll(g)) {
                        if (System.nanoTime() - deadline > 0) {
                            throw new AssertionError("poll never reached " + g + ": " + q.stats());
                        }
                        Thread.onSpinWait();
                    }
                    old[0] = 0;
                    freed.incrementAndGet();
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }));
        for (int r = 0; r < 6; r++) {
            long s = seed + 100 + r;
            threads.add(new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(s);
                try {
                    while (!stop.get()) {
                        QsbrThread me = q.register();
                        int rounds = rnd.nextInt(50);
                        for (int k = 0; k < rounds; k++) {
                            long[] held = shared.get(rnd.nextInt(nodes));
                            for (int spin = 0; spin < rnd.nextInt(100); spin++) {
                                Thread.onSpinWait();
                            }
                            if (held[0] != 1) {
                                violations.incrementAndGet();
                            }
                            if (rnd.nextInt(10) == 0) {
                                me.detach();
                                me.attach();
                            } else {
                                me.quiescent();
                            }
                        }
                        if (rnd.nextInt(4) == 0) {
                            // die registered: a short-lived thread that never unregisters
                            Thread d = new Thread(() -> {
                                QsbrThread h = q.register();
                                shared.get(0);
                                if (rnd.nextBoolean()) {
                                    h.detach();
                                }
                            });
                            d.start();
                            d.join();
                        }
                        me.unregister();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        threads.forEach(Thread::start);
        Thread.sleep(4000);
        stop.set(true);
        for (Thread t : threads) {
            t.join(10_000);
            assertFalse(t.isAlive());
        }
        assertNull(failure.get());
        assertEquals(0, violations.get());
        q.close();
        assertEquals(0, q.stats().deferredItems(), "work left after close: " + q.stats());
        System.out.println("freed " + freed.get() + " " + q.stats());
    }

    @Test
    void aWriterOverTheLimitThatIsItselfOnlineDoesNotDeadlock() throws Exception {
        QsbrConfig config = QsbrConfig.builder().free(a -> { }).sizeOf(a -> 4096).deferredBytesLimit(64 * 1024)
                .maxStall(Duration.ofMillis(5)).build();
        try (Qsbr q = Qsbr.create(config)) {
            CountDownLatch up = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Thread stuck = new Thread(() -> {
                q.register(); // online, never quiesces
                up.countDown();
                try {
                    done.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            stuck.start();
            up.await();
            run(() -> {
                QsbrThread me = q.register();
                for (int i = 0; i < 200; i++) {
                    me.defer(0x1000L * (i + 1));
                }
                me.unregister();
            });
            QsbrStats s = q.stats();
            assertTrue(s.forcedAdvances() > 0, s.toString());
            assertTrue(s.limitOverruns() > 0, s.toString());
            done.countDown();
            stuck.join();
            q.synchronize();
            assertEquals(0, q.stats().deferredItems());
        }
    }

    @Test
    void aWriterAheadOfQuiescingReadersStaysUnderTheLimit() throws Exception {
        long limit = 64 * 1024;
        QsbrConfig config = QsbrConfig.builder().free(a -> { }).sizeOf(a -> 1024).deferredBytesLimit(limit)
                .maxStall(Duration.ofSeconds(5)).build();
        try (Qsbr q = Qsbr.create(config)) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread reader = new Thread(() -> {
                QsbrThread me = q.register();
                while (!stop.get()) {
                    me.quiescent();
                    Thread.yield();
                }
                me.unregister();
            });
            reader.start();
            run(() -> {
                QsbrThread me = q.register();
                for (int i = 0; i < 20_000; i++) {
                    me.defer(16L * (i + 1));
                    me.quiescent();
                }
                me.unregister();
            });
            stop.set(true);
            reader.join();
            QsbrStats s = q.stats();
            assertEquals(0, s.limitOverruns(), s.toString());
            assertTrue(s.peakDeferredBytes() <= limit, s.toString());
        }
    }

    @Test
    void deferWithANullRunnableAndAForeignGoal() throws Exception {
        try (Qsbr q = Qsbr.create(); Qsbr other = Qsbr.create()) {
            for (int i = 0; i < 10; i++) {
                other.advance();
            }
            run(() -> {
                QsbrThread me = q.register();
                assertThrows(NullPointerException.class, () -> me.defer((Runnable) null));
                assertThrows(NullPointerException.class, () -> me.defer(null, 1));
                assertThrows(IllegalArgumentException.class, () -> me.defer(() -> { }, other.advance()));
                assertThrows(IllegalArgumentException.class, () -> me.defer(() -> { }, 4));
                assertEquals(0, q.stats().deferredItems());
                me.unregister();
            });
        }
    }

    @Test
    void currentIsTheCallingThreadsRegisteredHandle() throws Exception {
        try (Qsbr q = Qsbr.create()) {
            run(() -> {
                assertNull(q.current());
                QsbrThread me = q.register();
                assertTrue(q.current() == me);
                try (Qsbr other = Qsbr.create()) {
                    assertNull(other.current());
                }
                me.unregister();
                assertNull(q.current());
            });
            CountDownLatch up = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Thread t = new Thread(() -> {
                q.register();
                up.countDown();
                try {
                    done.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            t.start();
            up.await();
            assertNull(q.current(), "another thread's handle is not ours");
            done.countDown();
            t.join();
        }
    }

    /**
     * Several online writers over the byte limit at once, with a stall long enough that a wait cycle would hang
     * the test: every writer must finish, freed addresses are never held (oracle), and stats add up.
     */
    @Test
    void manyOnlineWritersOverTheLimitNeverWaitOnEachOther() throws Exception {
        long seed = System.nanoTime();
        System.out.println("QsbrProbeTest.manyOnlineWritersOverTheLimitNeverWaitOnEachOther seed=" + seed);
        ConcurrentHashMap<Long, Boolean> live = new ConcurrentHashMap<>();
        AtomicLong freedWhileLive = new AtomicLong();
        AtomicLong next = new AtomicLong(16);
        QsbrConfig config = QsbrConfig.builder()
                .free(a -> {
                    if (live.remove(a) == null) {
                        freedWhileLive.incrementAndGet(); // freed twice or never deferred
                    }
                })
                .sizeOf(a -> 4096).deferredBytesLimit(16 * 4096).queueThreshold(4)
                .maxStall(Duration.ofSeconds(60)).build();
        Qsbr q = Qsbr.create(config);
        int writers = 4;
        int perWriter = 3000;
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int w = 0; w < writers; w++) {
            long s = seed + w;
            threads.add(new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(s);
                try {
                    QsbrThread me = q.register();
                    for (int i = 0; i < perWriter; i++) {
                        long a = next.getAndAdd(16);
                        live.put(a, Boolean.TRUE);
                        if (rnd.nextInt(3) == 0) {
                            me.defer(a, q.advance());
                        } else {
                            me.defer(a);
                        }
                        int r = rnd.nextInt(16);
                        if (r < 3) {
                            me.quiescent();
                        } else if (r == 3) {
                            me.detach();
                            me.attach();
                        }
                    }
                    me.unregister();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(30_000);
            assertFalse(t.isAlive(), "a writer over the limit is stuck (wait cycle?)");
        }
        assertNull(failure.get());
        q.close();
        QsbrStats st = q.stats();
        assertEquals(0, freedWhileLive.get());
        assertTrue(live.isEmpty(), live.size() + " never freed");
        assertEquals(0, st.deferredBytes(), st.toString());
        assertEquals((long) writers * perWriter, st.itemsProcessed(), st.toString());
        assertEquals((long) writers * perWriter * 4096, st.bytesProcessed(), st.toString());
        System.out.println(st);
    }

    @Test
    void unregisterWithAThrowingTaskStillUnregistersAndTheRestRuns() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Qsbr q = Qsbr.create()) {
            run(() -> {
                QsbrThread me = q.register();
                long g = q.advance();
                me.defer(() -> {
                    throw new IllegalArgumentException("first");
                }, g);
                me.defer(ran::incrementAndGet, g);
                me.defer(ran::incrementAndGet); // a deferred goal: not advanced to yet
                assertThrows(IllegalArgumentException.class, me::unregister);
                assertFalse(me.isRegistered());
                assertNull(q.current());
                QsbrThread again = q.register(); // the thread can come back
                again.unregister();
            });
            q.synchronize();
            assertEquals(2, ran.get());
            assertEquals(0, q.stats().deferredItems());
        }
    }

    @Test
    void closeRunsEveryOrphanEvenWhenSomeThrow() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Qsbr q = Qsbr.create();
        run(() -> {
            QsbrThread me = q.register();
            CountDownLatch never = new CountDownLatch(1);
            for (int i = 0; i < 10; i++) {
                int k = i;
                me.defer(() -> {
                    ran.incrementAndGet();
                    if (k % 3 == 0) {
                        throw new IllegalStateException("task " + k);
                    }
                });
            }
            // dies registered, offline, with a queue
            me.detach();
        });
        RuntimeException e = assertThrows(RuntimeException.class, q::close);
        assertEquals(10, ran.get());
        assertEquals(3, e.getSuppressed().length);
        assertEquals(0, q.stats().deferredItems());
    }

    /**
     * An offline writer (the allocator's freeDelayed-only threads are registered offline and never reach a
     * quiescent point) over the byte limit while an online writer is stalled over it too: the offline one holds
     * nobody back, so it must wait (and count its overrun) rather than put the wait off to a quiescent point it
     * never reaches, which let its queue grow without any bound or overrun being counted.
     */
    @Test
    void anOfflineWriterOverTheLimitWaitsEvenWhileAnOnlineWriterIsStalled() throws Exception {
        int item = 4096;
        int limitItems = 16;
        QsbrConfig config = QsbrConfig.builder().free(a -> { }).sizeOf(a -> item)
                .deferredBytesLimit((long) limitItems * item).maxStall(Duration.ofSeconds(2)).build();
        try (Qsbr q = Qsbr.create(config)) {
            CountDownLatch onlineUp = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch readerUp = new CountDownLatch(1);
            CountDownLatch releaseReader = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread online = new Thread(() -> {
                try {
                    QsbrThread me = q.register(); // first slot: the blocker the offline writer looks at first
                    onlineUp.countDown();
                    go.await();
                    for (int i = 0; i <= limitItems; i++) {
                        me.defer(0x10_000L + 16L * i); // the last one stalls, marked stalled, for maxStall
                    }
                    me.unregister();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            online.start();
            onlineUp.await();
            Thread reader = new Thread(() -> {
                QsbrThread me = q.register(); // online and stuck: nothing can be reclaimed
                readerUp.countDown();
                try {
                    releaseReader.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                me.unregister();
            });
            reader.start();
            readerUp.await();
            go.countDown();
            while (q.stats().forcedAdvances() == 0) { // the online writer reached the limit
                Thread.onSpinWait();
            }
            run(() -> {
                QsbrThread me = q.register();
                me.detach(); // a writer only, like freeDelayed's
                for (int i = 0; i <= limitItems; i++) {
                    me.defer(0x20_000L + 16L * i);
                }
                QsbrStats s = q.stats();
                assertTrue(s.deferredBytes() <= 2L * (limitItems + 1) * item, s.toString());
                me.unregister();
            });
            online.join();
            assertNull(failure.get());
            QsbrStats s = q.stats();
            assertEquals(2, s.limitOverruns(), "both writers must have waited and counted: " + s);
            releaseReader.countDown();
            reader.join();
            q.synchronize();
        }
    }

    @Test
    void aQueueThresholdOfIntegerMaxValueNeverRunsWorkFromDefer() throws Exception {
        QsbrConfig config = QsbrConfig.builder().queueThreshold(Integer.MAX_VALUE).build();
        try (Qsbr q = Qsbr.create(config)) {
            AtomicInteger ran = new AtomicInteger();
            run(() -> {
                QsbrThread me = q.register();
                me.defer(ran::incrementAndGet); // a deferred goal, not advanced to yet
                assertEquals(0, me.processDeferred());
                q.advance(); // now due
                me.defer(() -> { }); // one item queued: far below the threshold, so nothing runs here
                assertEquals(0, ran.get(), "defer ran due work with 2 items queued");
                me.unregister();
            });
            assertEquals(1, ran.get());
        }
    }
}
