package dev.cairn.reclaim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 5, sentence by sentence, through the public API only ({@code dev.cairn.reclaim}, never {@code internal}):
 * what a new user reading the issue would expect of a {@link Qsbr} domain. No test depends on timing for its
 * verdict: waits are for events, and a "still blocked" check can only fail if the implementation is wrong.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IssueFiveContractTest {

    /** A thread that registers, runs {@code body} with its handle, and is told when to go on. */
    private static final class Peer implements AutoCloseable {
        private final Thread thread;
        private final ConcurrentLinkedQueue<Consumer<QsbrThread>> tasks = new ConcurrentLinkedQueue<>();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private volatile boolean stop;
        private volatile QsbrThread handle;
        private final CountDownLatch registered = new CountDownLatch(1);

        Peer(Qsbr domain, String name) throws InterruptedException {
            thread = Thread.ofPlatform().name(name).start(() -> {
                try {
                    handle = domain.register();
                    registered.countDown();
                    while (!stop) {
                        Consumer<QsbrThread> t = tasks.poll();
                        if (t != null) {
                            t.accept(handle);
                        } else {
                            Thread.onSpinWait();
                        }
                    }
                    if (handle.isRegistered()) {
                        handle.unregister();
                    }
                } catch (Throwable e) {
                    failure.set(e);
                    registered.countDown();
                }
            });
            assertTrue(registered.await(10, TimeUnit.SECONDS));
            assertNull(failure.get());
        }

        /** Runs {@code task} on the peer and waits for it. */
        void run(Consumer<QsbrThread> task) throws InterruptedException {
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            tasks.add(h -> {
                try {
                    task.accept(h);
                } catch (Throwable e) {
                    thrown.set(e);
                }
                done.countDown();
            });
            assertTrue(done.await(10, TimeUnit.SECONDS), "peer did not run the task");
            if (thrown.get() != null) {
                throw new AssertionError("peer task failed", thrown.get());
            }
        }

        QsbrThread handle() {
            return handle;
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(10_000);
            assertFalse(thread.isAlive());
            if (failure.get() != null) {
                throw new AssertionError("peer failed", failure.get());
            }
        }
    }

    private static Throwable onAnotherThread(Runnable r) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.join();
        return thrown.get();
    }

    // ---- sequences and goals ----

    @Test
    void goalsAreOddIncreasingAndAdvancedInSteps() {
        try (Qsbr d = Qsbr.create()) {
            long wr = d.writeSequence();
            assertEquals(1, wr & 1, "write sequence is odd");
            long g1 = d.advance();
            long g2 = d.advance();
            assertEquals(1, g1 & 1);
            assertTrue(g2 > g1 && g1 > wr, wr + " " + g1 + " " + g2);
            assertEquals(g2, d.writeSequence());
            // nobody is registered: every goal is reached at once
            assertTrue(d.poll(g1));
            assertTrue(d.poll(g2));
            assertTrue(d.readSequence() >= g2);
        }
    }

    @Test
    void goalsThatCannotComeFromTheDomainAreRejectedByPollAndDefer() {
        try (Qsbr d = Qsbr.create(QsbrConfig.builder().free(a -> { }).build())) {
            long wr = d.writeSequence();
            for (long bad : new long[] {0, -1, -3, 2, wr + 1, Long.MIN_VALUE, Long.MAX_VALUE, wr + 4, wr + 1001}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.poll(bad),
                        "poll(" + bad + ")");
                assertTrue(e.getMessage().contains(Long.toString(bad)), e.getMessage());
            }
            QsbrThread h = d.register();
            long before = d.writeSequence();
            AtomicInteger ran = new AtomicInteger();
            for (long bad : new long[] {0, -1, 2, Long.MAX_VALUE, before + 6}) {
                assertThrows(IllegalArgumentException.class, () -> h.defer(64, bad));
                assertThrows(IllegalArgumentException.class, () -> h.defer(ran::incrementAndGet, bad));
            }
            assertEquals(before, d.writeSequence(), "a refused call changed the write sequence");
            assertEquals(0, d.stats().deferredItems(), "a refused defer queued something");
            h.unregister();
        }
    }

    @Test
    void aRegisteredThreadThatPollsCountsItselfUntilItQuiesces() {
        try (Qsbr d = Qsbr.create()) {
            QsbrThread h = d.register();
            assertSame(h, d.current());
            assertTrue(h.isAttached(), "register() returns an attached handle");
            long goal = d.advance();
            assertFalse(d.poll(goal), "online and not yet quiescent: the goal is not reached");
            h.quiescent();
            assertTrue(d.poll(goal));
            h.unregister();
            assertNull(d.current());
        }
    }

    // ---- who blocks progress ----

    @Test
    void aThreadThatNeverQuiescesBlocksPollWhileDetachedThreadsDoNot() throws Exception {
        try (Qsbr d = Qsbr.create(); Peer stuck = new Peer(d, "never-quiesces");
                Peer offline = new Peer(d, "offline")) {
            offline.run(QsbrThread::detach);
            long goal = d.advance();
            for (int i = 0; i < 1000; i++) {
                assertFalse(d.poll(goal), "an online thread that never quiesced held nothing back");
            }
            assertFalse(d.poll(goal));
            stuck.run(QsbrThread::detach);
            assertTrue(d.poll(goal), "only offline threads left");
            // back online: it comes back at the current sequence, so goals taken before it attached are reached
            stuck.run(QsbrThread::attach);
            assertTrue(d.poll(goal));
            long next = d.advance();
            assertFalse(d.poll(next));
            stuck.run(QsbrThread::quiescent);
            assertTrue(d.poll(next));
            offline.run(QsbrThread::attach);
        }
    }

    @Test
    void synchronizeWaitsForTheOnlineThreadAndReturnsOnceItQuiesces() throws Exception {
        try (Qsbr d = Qsbr.create(); Peer reader = new Peer(d, "reader")) {
            CountDownLatch synced = new CountDownLatch(1);
            Thread writer = Thread.ofPlatform().start(() -> {
                d.synchronize();
                synced.countDown();
            });
            assertFalse(synced.await(100, TimeUnit.MILLISECONDS), "synchronize returned while a reader was online");
            // the reader keeps quiescing until the writer is through
            while (synced.getCount() != 0) {
                reader.run(QsbrThread::quiescent);
            }
            writer.join();
        }
    }

    @Test
    void anUnregisteredThreadStopsBlockingAndItsHandleRefusesEverything() throws Exception {
        try (Qsbr d = Qsbr.create(QsbrConfig.builder().free(a -> { }).build())) {
            AtomicReference<QsbrThread> handle = new AtomicReference<>();
            Peer p = new Peer(d, "unregisters");
            long goal = d.advance();
            assertFalse(d.poll(goal));
            p.run(h -> {
                handle.set(h);
                h.unregister();
                assertFalse(h.isRegistered());
                assertNull(d.current());
                for (Runnable use : List.<Runnable>of(h::unregister, h::detach, h::attach, h::isAttached,
                        h::deferredAdvance, () -> h.defer(8), () -> h.defer(() -> { }), h::processDeferred,
                        h::quiescent)) {
                    IllegalStateException e = assertThrows(IllegalStateException.class, use::run);
                    assertNotNull(e.getMessage());
                }
            });
            assertTrue(d.poll(goal), "an unregistered thread still blocks");
            assertFalse(handle.get().isRegistered(), "any thread may ask");
            assertEquals(0, d.stats().threadsRegistered());
            p.close();
        }
    }

    @Test
    void aThreadThatDiesOnlineAndRegisteredStopsBlocking() throws Exception {
        try (Qsbr d = Qsbr.create()) {
            AtomicReference<QsbrThread> handle = new AtomicReference<>();
            CountDownLatch registered = new CountDownLatch(1);
            CountDownLatch die = new CountDownLatch(1);
            Thread t = Thread.ofPlatform().start(() -> {
                handle.set(d.register());
                registered.countDown();
                try {
                    die.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            registered.await();
            long goal = d.advance();
            assertFalse(d.poll(goal), "alive and online");
            die.countDown();
            t.join();
            assertTrue(d.poll(goal), "a dead thread holds reclamation back forever");
            assertFalse(handle.get().isRegistered());
            assertEquals(1, d.stats().deadThreadsDetected());
            assertEquals(0, d.stats().threadsRegistered());
        }
    }

    @Test
    void dyingRegisteredThreadsLeaveTheirDeferredWorkToTheDomain() throws Exception {
        AtomicInteger freed = new AtomicInteger();
        try (Qsbr d = Qsbr.create(QsbrConfig.builder().free(a -> freed.incrementAndGet()).build())) {
            CountDownLatch proceed = new CountDownLatch(1);
            try (Peer reader = new Peer(d, "reader")) {
                Thread t = Thread.ofPlatform().start(() -> {
                    QsbrThread h = d.register();
                    h.defer(0x1000, d.advance());
                    h.defer(0x2000);
                    // ends without unregistering
                });
                t.join();
                assertEquals(0, freed.get(), "freed while the reader may hold it");
                reader.run(QsbrThread::quiescent);
                reader.run(QsbrThread::detach);
                proceed.countDown();
                d.synchronize();
                assertEquals(2, freed.get(), "the dead thread's deferred frees never ran");
                reader.run(QsbrThread::attach);
            }
        }
    }

    @Test
    void aThreadRegistersOncePerDomainButInAnyNumberOfDomainsIndependently() throws Exception {
        try (Qsbr a = Qsbr.create(); Qsbr b = Qsbr.create()) {
            QsbrThread ha = a.register();
            assertThrows(IllegalStateException.class, a::register, "registered twice");
            assertSame(ha, a.current());
            QsbrThread hb = b.register();
            assertSame(hb, b.current());
            // online and never quiescing in a: it blocks a only
            long ga = a.advance();
            long gb = b.advance();
            hb.quiescent();
            assertTrue(b.poll(gb), "a thread of b waited for a");
            assertFalse(a.poll(ga));
            ha.unregister();
            hb.unregister();
            QsbrThread again = a.register();
            assertTrue(again.isRegistered());
            assertFalse(ha.isRegistered());
            again.unregister();
        }
    }

    @Test
    void handlesAreConfinedToTheirThread() throws Exception {
        try (Qsbr d = Qsbr.create(QsbrConfig.builder().free(a -> { }).build())) {
            QsbrThread h = d.register();
            for (Consumer<QsbrThread> use : List.<Consumer<QsbrThread>>of(QsbrThread::detach, QsbrThread::attach,
                    QsbrThread::unregister, x -> x.defer(8), x -> x.defer(() -> { }, d.advance()),
                    QsbrThread::processDeferred, QsbrThread::quiescent)) {
                Throwable t = onAnotherThread(() -> use.accept(h));
                assertTrue(t instanceof WrongThreadException, "expected WrongThreadException, got " + t);
            }
            assertTrue(h.isRegistered());
            assertTrue(h.isAttached(), "a refused call from another thread changed the state");
            assertSame(d, h.domain());
            // the domain itself may be used from any thread
            assertNull(onAnotherThread(() -> {
                assertNull(d.current());
                d.advance();
                d.stats();
            }));
            h.unregister();
        }
    }

    @Test
    void stateChangesThatAreAlreadyInEffectAreRefusedWithoutChangingAnything() {
        try (Qsbr d = Qsbr.create()) {
            QsbrThread h = d.register();
            assertThrows(IllegalStateException.class, h::attach);
            assertTrue(h.isAttached());
            h.detach();
            assertThrows(IllegalStateException.class, h::detach);
            assertFalse(h.isAttached());
            long goal = d.advance();
            assertTrue(d.poll(goal), "offline");
            // -ea: quiescent while offline is caught
            assertThrows(IllegalStateException.class, h::quiescent);
            assertFalse(h.isAttached(), "a refused quiescent brought the thread online");
            assertTrue(d.poll(d.advance()));
            h.attach();
            h.unregister();
            assertThrows(IllegalStateException.class, h::unregister, "unregister twice");
            assertEquals(0, d.stats().threadsRegistered());
        }
    }

    @Test
    void synchronizeFromAnOnlineRegisteredThreadIsRefusedNotAHang() {
        try (Qsbr d = Qsbr.create()) {
            QsbrThread h = d.register();
            assertThrows(IllegalStateException.class, d::synchronize);
            h.detach();
            d.synchronize();
            h.attach();
            h.unregister();
            d.synchronize();
        }
    }

    // ---- deferred work ----

    @Test
    void deferredWorkRunsOnceTheGoalIsReachedAtAQuiescentPoint() throws Exception {
        List<Long> freed = new ArrayList<>();
        QsbrConfig config = QsbrConfig.builder().free(freed::add).sizeOf(a -> 100).build();
        try (Qsbr d = Qsbr.create(config); Peer reader = new Peer(d, "reader")) {
            QsbrThread w = d.register();
            long goal = d.advance();
            w.defer(0x10, goal);
            AtomicInteger tasks = new AtomicInteger();
            w.defer(tasks::incrementAndGet, goal);
            assertEquals(2, d.stats().deferredItems());
            assertEquals(100, d.stats().deferredBytes());
            w.quiescent();
            assertEquals(0, w.processDeferred(), "ran before the reader passed the goal");
            assertTrue(freed.isEmpty());
            reader.run(QsbrThread::quiescent);
            for (int i = 0; i < 10_000 && freed.isEmpty(); i++) {
                w.quiescent();
            }
            assertEquals(List.of(0x10L), freed, "not run at the quiescent point after the goal was reached");
            assertEquals(1, tasks.get());
            assertEquals(0, d.stats().deferredItems());
            assertEquals(0, d.stats().deferredBytes());
            assertEquals(100, d.stats().bytesProcessed());
            w.unregister();
        }
    }

    /**
     * A writer whose first check after deferring comes before its readers pass the goal: once they have passed it,
     * its later quiescent points must still run the work. It used to wait for the next advance of the write
     * sequence, which an otherwise idle domain never makes: {@code while (!ran) quiescent();} spun forever.
     */
    @Test
    void aWriterThatQuiescesBeforeItsReadersStillRunsItsWorkAtLaterQuiescentPoints() throws Exception {
        try (Qsbr d = Qsbr.create(); Peer reader = new Peer(d, "reader")) {
            QsbrThread w = d.register();
            AtomicInteger ran = new AtomicInteger();
            w.defer(ran::incrementAndGet, d.advance());
            w.quiescent(); // the reader has not passed the goal yet: nothing runs
            assertEquals(0, ran.get());
            reader.run(QsbrThread::quiescent);
            long writeSequence = d.writeSequence();
            for (int i = 0; i < 100_000 && ran.get() == 0; i++) {
                w.quiescent();
            }
            assertEquals(writeSequence, d.writeSequence(), "nobody advanced: the test proves what it means to");
            assertEquals(1, ran.get(), "the work never ran at a quiescent point after the reader passed its goal");
            // and again after a long lag: the writer keeps looking, however long the reader took
            w.defer(ran::incrementAndGet, d.advance());
            for (int i = 0; i < 100_000; i++) {
                w.quiescent();
            }
            assertEquals(1, ran.get(), "ran before the reader passed");
            reader.run(QsbrThread::quiescent);
            for (int i = 0; i < 100_000 && ran.get() == 1; i++) {
                w.quiescent();
            }
            assertEquals(2, ran.get(), "the work never ran after a long lag");
            w.unregister();
        }
    }

    @Test
    void theDeferringThreadDoesNotWaitForItself() {
        AtomicInteger freed = new AtomicInteger();
        try (Qsbr d = Qsbr.create(QsbrConfig.builder().free(a -> freed.incrementAndGet()).build())) {
            QsbrThread w = d.register();
            w.defer(0x20, d.advance());
            assertEquals(1, w.processDeferred(), "alone in the domain, its own deferred work is due");
            assertEquals(1, freed.get());
            w.unregister();
        }
    }

    @Test
    void aLongQueueIsProcessedFromDeferWithoutAQuiescentPoint() {
        AtomicInteger freed = new AtomicInteger();
        QsbrConfig config = QsbrConfig.builder().free(a -> freed.incrementAndGet()).queueThreshold(8).build();
        try (Qsbr d = Qsbr.create(config)) {
            QsbrThread w = d.register();
            for (int i = 1; i <= 100; i++) {
                w.defer(i * 16L, d.advance());
            }
            assertTrue(freed.get() >= 100 - 8, "the queue passed its threshold and nothing ran: " + freed.get());
            w.unregister();
            assertEquals(100, freed.get(), "unregister runs what is due");
        }
    }

    @Test
    void deferWithoutAFreeFunctionOrWithANegativeSizeIsRefusedAndQueuesNothing() {
        try (Qsbr d = Qsbr.create()) {
            QsbrThread h = d.register();
            assertThrows(IllegalStateException.class, () -> h.defer(64));
            assertThrows(IllegalStateException.class, () -> h.defer(64, d.advance()));
            assertThrows(NullPointerException.class, () -> h.defer((Runnable) null));
            assertThrows(NullPointerException.class, () -> h.defer(null, d.advance()));
            assertThrows(IllegalArgumentException.class, () -> h.deferHolding(() -> { }, -1));
            assertEquals(0, d.stats().deferredItems());
            h.unregister();
        }
        try (Qsbr d = Qsbr.create(QsbrConfig.builder().free(a -> { }).sizeOf(a -> -5).build())) {
            QsbrThread h = d.register();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.defer(64));
            assertTrue(e.getMessage().contains("-5"), e.getMessage());
            assertEquals(0, d.stats().deferredItems());
            h.unregister();
        }
    }

    @Test
    void aThrowingTaskPropagatesIsDroppedAndTheRestStillRun() {
        AtomicInteger freed = new AtomicInteger();
        try (Qsbr d = Qsbr.create(QsbrConfig.builder().free(a -> freed.incrementAndGet()).build())) {
            QsbrThread w = d.register();
            long goal = d.advance();
            AtomicInteger after = new AtomicInteger();
            w.defer(0x40, goal);
            w.defer(() -> {
                throw new IllegalStateException("task failed");
            }, goal);
            w.defer(after::incrementAndGet, goal);
            w.defer(0x50, goal);
            IllegalStateException e = assertThrows(IllegalStateException.class, w::processDeferred);
            assertEquals("task failed", e.getMessage());
            // run again: the failed task is gone, the rest run exactly once
            w.processDeferred();
            w.quiescent();
            assertEquals(2, freed.get());
            assertEquals(1, after.get());
            assertEquals(0, d.stats().deferredItems());
            w.unregister();
        }
    }

    @Test
    void aTaskThatDefersMoreWorkAndTasksRunningFromQuiescentPoints() {
        try (Qsbr d = Qsbr.create()) {
            QsbrThread w = d.register();
            AtomicInteger second = new AtomicInteger();
            w.defer(() -> w.defer(second::incrementAndGet, d.advance()), d.advance());
            for (int i = 0; i < 10 && second.get() == 0; i++) {
                w.quiescent();
                w.processDeferred();
            }
            assertEquals(1, second.get(), "work queued by deferred work never ran");
            w.unregister();
        }
    }

    @Test
    void deferredBytesStayBoundedByTheLimitWhenEveryoneQuiesces() {
        long limit = 4096;
        AtomicInteger freed = new AtomicInteger();
        QsbrConfig config = QsbrConfig.builder().free(a -> freed.incrementAndGet()).sizeOf(a -> 256)
                .deferredBytesLimit(limit).queueThreshold(1_000_000).advanceInterval(1_000_000).build();
        try (Qsbr d = Qsbr.create(config)) {
            QsbrThread w = d.register();
            for (int i = 0; i < 1000; i++) {
                w.defer(16L * (i + 1)); // deferredAdvance: never really advances by itself here
                assertTrue(d.stats().deferredBytes() <= limit, "over the limit at " + i + ": " + d.stats());
            }
            QsbrStats s = d.stats();
            assertEquals(limit, s.deferredBytesLimit(), "the limit is reported");
            assertTrue(s.forcedAdvances() > 0, "no forced advance: " + s);
            assertTrue(s.peakDeferredBytes() <= limit, s.toString());
            assertEquals(0, s.limitOverruns());
            w.unregister();
            d.synchronize();
            assertEquals(1000, freed.get());
        }
    }

    @Test
    void aWriterOverTheLimitWithAStuckReaderGoesOnAfterMaxStallAndCountsAnOverrun() throws Exception {
        QsbrConfig config = QsbrConfig.builder().free(a -> { }).sizeOf(a -> 1024).deferredBytesLimit(4096)
                .maxStall(Duration.ZERO).build();
        try (Qsbr d = Qsbr.create(config); Peer stuck = new Peer(d, "stuck")) {
            QsbrThread w = d.register();
            for (int i = 0; i < 20; i++) {
                w.defer(16L * (i + 1), d.advance());
            }
            QsbrStats s = d.stats();
            assertTrue(s.limitOverruns() > 0, "past the limit with a stuck reader and no overrun counted: " + s);
            assertEquals(20, s.deferredItems(), "freed while a reader was stuck");
            stuck.run(QsbrThread::quiescent);
            assertEquals(20, w.processDeferred());
            assertEquals(0, d.stats().deferredItems());
            w.unregister();
        }
    }

    // ---- domain lifetime ----

    @Test
    void closeRefusesLiveRegisteredThreadsAndLaterRegistrations() throws Exception {
        Qsbr d = Qsbr.create();
        QsbrThread h = d.register();
        assertThrows(IllegalStateException.class, d::close);
        h.unregister();
        d.close();
        d.close(); // idempotent
        assertThrows(IllegalStateException.class, d::register);
        assertEquals(0, d.stats().threadsRegistered());
    }

    @Test
    void manyThreadsRegisteringAtOnceGrowTheSlotArrayWithoutLosingAnyone() throws Exception {
        int n = 40;
        QsbrConfig config = QsbrConfig.builder().initialSlots(1).build();
        try (Qsbr d = Qsbr.create(config)) {
            CyclicBarrier start = new CyclicBarrier(n + 1);
            CountDownLatch go = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long[] goal = new long[1];
            CountDownLatch blocked = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        QsbrThread h = d.register();
                        start.await();
                        go.await();
                        h.quiescent();
                        blocked.await();
                        h.unregister();
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                }));
            }
            start.await(); // all registered, none quiesced
            assertEquals(n, d.stats().threadsRegistered());
            goal[0] = d.advance();
            assertFalse(d.poll(goal[0]), "a thread registered during growth was lost from the scan");
            go.countDown();
            while (!d.poll(goal[0])) {
                Thread.onSpinWait();
            }
            blocked.countDown();
            for (Thread t : threads) {
                t.join();
            }
            assertNull(failure.get());
            assertEquals(0, d.stats().threadsRegistered());
        }
    }

    @Test
    void aDeferThatRunsAFailingItemStillQueuesItsOwnAndTheDomainStaysUsable() {
        AtomicInteger ran = new AtomicInteger();
        QsbrConfig config = QsbrConfig.builder().queueThreshold(2).build();
        try (Qsbr d = Qsbr.create(config)) {
            QsbrThread w = d.register();
            w.defer(() -> {
                throw new ArithmeticException("boom");
            }, d.advance());
            w.defer(ran::incrementAndGet, d.advance());
            // the queue is at its threshold: this defer runs the due items, the first throws through it
            assertThrows(ArithmeticException.class, () -> w.defer(ran::incrementAndGet, d.advance()));
            w.processDeferred();
            w.processDeferred();
            assertEquals(2, ran.get(), "the failing defer's own item, or the one after the failure, was lost");
            assertEquals(0, d.stats().deferredItems());
            w.unregister();
        }
    }

    @Test
    void aDeadThreadsThrowingOrphanSurfacesFromSynchronizeAndTheRestStillRuns() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Qsbr d = Qsbr.create()) {
            Thread t = Thread.ofPlatform().start(() -> {
                QsbrThread h = d.register();
                long goal = d.advance();
                h.defer(() -> {
                    throw new IllegalStateException("orphan failed");
                }, goal);
                h.defer(ran::incrementAndGet, goal);
            });
            t.join();
            RuntimeException e = assertThrows(RuntimeException.class, d::synchronize);
            assertEquals("orphan failed", e.getMessage());
            d.synchronize();
            assertEquals(1, ran.get());
            assertEquals(0, d.stats().deferredItems());
        }
    }

    @Test
    void addressZeroIsHandedToTheFreeFunctionLikeAnyOther() {
        List<Long> freed = new ArrayList<>();
        try (Qsbr d = Qsbr.create(QsbrConfig.builder().free(freed::add).build())) {
            QsbrThread w = d.register();
            w.defer(0, d.advance());
            w.processDeferred();
            w.unregister();
        }
        // the package never interprets addresses: 0 is passed through (the allocator's free function ignores it)
        assertEquals(List.of(0L), freed);
    }

    @Test
    void manyVirtualThreadsThatEndWhileRegisteredLeaveNothingBehind() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Qsbr d = Qsbr.create()) {
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    QsbrThread h = d.register();
                    h.defer(ran::incrementAndGet, d.advance());
                    if (ThreadLocalRandomHolder.nextBoolean()) {
                        h.detach(); // some end offline, some online
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            d.reapDeadThreads(); // those that later registrations and polls did not find already
            d.synchronize();
            assertEquals(500, ran.get(), "work of ended virtual threads was lost");
            QsbrStats s = d.stats();
            assertEquals(0, s.threadsRegistered());
            assertEquals(500, s.deadThreadsDetected());
            assertEquals(0, s.deferredItems());
        }
    }

    private static final class ThreadLocalRandomHolder {
        static boolean nextBoolean() {
            return java.util.concurrent.ThreadLocalRandom.current().nextBoolean();
        }
    }
}
