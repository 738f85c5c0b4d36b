package dev.cairn.reclaim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Who holds reclamation back and who does not: online, offline, unregistered and dead threads. */
class QsbrProgressTest {

    /** A registered helper thread that runs commands on its own handle, one at a time. */
    static final class Peer implements AutoCloseable {
        private final Semaphore ready = new Semaphore(0);
        private final Semaphore done = new Semaphore(0);
        private final AtomicReference<Cmd> command = new AtomicReference<>();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread thread;
        QsbrThread handle;

        interface Cmd {
            void run(QsbrThread handle) throws Exception;
        }

        Peer(Qsbr domain) throws InterruptedException {
            CountDownLatch registered = new CountDownLatch(1);
            thread = new Thread(() -> {
                handle = domain.register();
                registered.countDown();
                while (true) {
                    ready.acquireUninterruptibly();
                    Cmd c = command.getAndSet(null);
                    if (c == null) {
                        return;
                    }
                    try {
                        c.run(handle);
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                    done.release();
                }
            }, "peer");
            thread.setDaemon(true);
            thread.start();
            assertTrue(registered.await(10, TimeUnit.SECONDS));
        }

        void run(Cmd c) throws Exception {
            command.set(c);
            ready.release();
            assertTrue(done.tryAcquire(10, TimeUnit.SECONDS), "peer did not answer");
            Throwable t = failure.getAndSet(null);
            if (t != null) {
                throw new AssertionError("peer failed", t);
            }
        }

        /** Ends the thread without unregistering. */
        void end() throws InterruptedException {
            ready.release();
            thread.join(10_000);
        }

        @Override
        public void close() {
            if (thread.isAlive()) {
                try {
                    run(h -> {
                        if (!left(h)) {
                            h.unregister();
                        }
                    });
                    end();
                } catch (Exception e) {
                    throw new AssertionError("peer did not shut down", e);
                }
            }
        }

        private static boolean left(QsbrThread h) {
            try {
                h.isAttached();
                return false;
            } catch (IllegalStateException unregistered) {
                return true;
            }
        }
    }

    @Test
    void aGoalIsReachedOnceEveryOnlineThreadPassesAQuiescentPoint() throws Exception {
        try (Qsbr domain = Qsbr.create(); Peer a = new Peer(domain); Peer b = new Peer(domain)) {
            long goal = domain.advance();
            assertEquals(3, goal, "wrSeq starts at 1 and moves by 2");
            assertFalse(domain.poll(goal), "both peers are online and behind");
            a.run(QsbrThread::quiescent);
            assertFalse(domain.poll(goal), "b is still behind");
            b.run(QsbrThread::quiescent);
            assertTrue(domain.poll(goal));
            assertEquals(goal, domain.readSequence(), "the scan published the new read sequence");
        }
    }

    @Test
    void offlineThreadsDoNotBlockAndComeBackAtTheCurrentSequence() throws Exception {
        try (Qsbr domain = Qsbr.create(); Peer a = new Peer(domain)) {
            a.run(QsbrThread::detach);
            long goal = domain.advance();
            assertTrue(domain.poll(goal), "a detached thread holds nothing back");
            a.run(QsbrThread::attach);
            assertTrue(domain.poll(goal), "attached after the advance: it has already passed the goal");
            long next = domain.advance();
            assertFalse(domain.poll(next), "online again, it counts again");
            a.run(h -> assertTrue(h.isAttached()));
        }
    }

    @Test
    void aThreadThatNeverReachesAQuiescentPointBlocksReclamation() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Qsbr domain = Qsbr.create(); Peer stuck = new Peer(domain); Peer writer = new Peer(domain)) {
            long goal = domain.advance();
            writer.run(h -> h.defer(ran::incrementAndGet, goal));
            for (int i = 0; i < 50; i++) {
                writer.run(h -> {
                    h.quiescent();
                    h.processDeferred();
                });
                assertFalse(domain.poll(goal), "the stuck thread has not passed " + goal);
                domain.advance();
            }
            assertEquals(0, ran.get(), "deferred work waits for the stuck thread");
            stuck.run(QsbrThread::quiescent);
            assertTrue(domain.poll(goal));
            writer.run(h -> assertEquals(1, h.processDeferred()));
            assertEquals(1, ran.get());
        }
    }

    @Test
    void anUnregisteredThreadStopsBlockingAndItsQueueIsRunByTheDomain() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Qsbr domain = Qsbr.create(); Peer blocker = new Peer(domain); Peer leaver = new Peer(domain)) {
            long goal = domain.advance();
            leaver.run(h -> h.defer(ran::incrementAndGet, goal));
            leaver.run(QsbrThread::unregister);
            assertEquals(0, ran.get(), "the blocker has not passed the goal yet");
            assertEquals(1, domain.stats().deferredItems(), "the orphaned item is still counted");
            blocker.run(QsbrThread::unregister);
            assertTrue(domain.poll(goal), "nobody is registered any more");
            domain.synchronize();
            assertEquals(1, ran.get(), "orphaned work ran once due");
            assertEquals(0, domain.stats().threadsRegistered());
        }
    }

    @Test
    void aThreadThatDiesWhileOnlineIsDetectedByPoll() throws Exception {
        try (Qsbr domain = Qsbr.create()) {
            Peer dying = new Peer(domain);
            long goal = domain.advance();
            assertFalse(domain.poll(goal));
            dying.end(); // ends while registered and online
            assertTrue(domain.poll(goal), "poll finds the dead blocker and drops it");
            QsbrStats stats = domain.stats();
            assertEquals(1, stats.deadThreadsDetected());
            assertEquals(0, stats.threadsRegistered());
        }
    }

    @Test
    void aThreadThatDiesOfflineWithDeferredWorkIsSweptBySynchronize() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Qsbr domain = Qsbr.create()) {
            Peer dying = new Peer(domain);
            dying.run(h -> h.defer(ran::incrementAndGet));
            dying.run(QsbrThread::detach);
            dying.end();
            domain.synchronize();
            assertEquals(1, ran.get(), "the dead thread's queue became an orphan and ran");
            assertEquals(1, domain.stats().deadThreadsDetected());
        }
    }

    @Test
    void reapDeadThreadsSweepsADeadOfflineWriterWithoutWaiting() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Qsbr domain = Qsbr.create()) {
            QsbrThread me = domain.register(); // an online reader that is here: nothing waits for anyone else
            Peer dying = new Peer(domain);
            dying.run(h -> h.defer(ran::incrementAndGet));
            dying.run(QsbrThread::detach);
            dying.end();
            long goal = domain.advance();
            me.quiescent();
            assertTrue(domain.poll(goal), "an offline thread holds nobody back");
            assertEquals(0, domain.stats().deadThreadsDetected(), "so poll does not look at it");
            assertEquals(0, ran.get(), "and its queue waits");
            assertEquals(1, domain.reapDeadThreads());
            assertEquals(1, ran.get(), "the dead writer's due work ran");
            assertEquals(1, domain.stats().deadThreadsDetected());
            assertEquals(0, domain.reapDeadThreads(), "nothing left to reap");
            me.unregister();
        }
    }

    @Test
    void aThreadThatDiesUnnoticedIsReapedByTheCleanerOnceCollected() throws Exception {
        try (Qsbr domain = Qsbr.create()) {
            Thread t = new Thread(() -> domain.register().detach(), "dies-detached");
            t.start();
            t.join();
            t = null; // the slot holds the thread weakly, the handle is gone with the thread
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (domain.stats().deadThreadsDetected() == 0 && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(1, domain.stats().deadThreadsDetected(), "no sweep ran, so only the cleaner can have it");
            assertEquals(0, domain.stats().threadsRegistered());
        }
    }

    @Test
    void slotsAreReusedAfterUnregisterAndTheTableGrowsForManyThreads() throws Exception {
        try (Qsbr domain = Qsbr.create(QsbrConfig.builder().initialSlots(2).build())) {
            for (int i = 0; i < 100; i++) {
                Thread t = new Thread(() -> domain.register().unregister());
                t.start();
                t.join();
            }
            assertEquals(0, domain.stats().threadsRegistered());
            int many = 40;
            CountDownLatch registered = new CountDownLatch(many);
            CountDownLatch release = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < many; i++) {
                Thread t = new Thread(() -> {
                    QsbrThread h = domain.register();
                    registered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    h.quiescent();
                    h.unregister();
                });
                t.start();
                threads.add(t);
            }
            assertTrue(registered.await(10, TimeUnit.SECONDS));
            assertEquals(many, domain.stats().threadsRegistered());
            long goal = domain.advance();
            assertFalse(domain.poll(goal), "forty online threads behind the goal");
            release.countDown();
            for (Thread t : threads) {
                t.join(10_000);
            }
            assertTrue(domain.poll(goal));
            assertEquals(0, domain.stats().threadsRegistered());
        }
    }

    @Test
    void deferredAddressesAreFreedWithTheConfiguredFunctionAndCounted() throws Exception {
        List<Long> freed = new ArrayList<>();
        QsbrConfig config = QsbrConfig.builder().free(freed::add).sizeOf(a -> 100).build();
        try (Qsbr domain = Qsbr.create(config); Peer reader = new Peer(domain)) {
            QsbrThread me = domain.register();
            me.defer(0x1000L, domain.advance());
            me.defer(0x2000L, domain.advance());
            me.quiescent();
            assertEquals(0, me.processDeferred(), "the reader has not passed either goal");
            assertEquals(200, domain.stats().deferredBytes());
            reader.run(QsbrThread::quiescent);
            assertEquals(2, me.processDeferred());
            assertEquals(List.of(0x1000L, 0x2000L), freed, "oldest first");
            QsbrStats stats = domain.stats();
            assertEquals(0, stats.deferredBytes());
            assertEquals(2, stats.itemsProcessed());
            assertEquals(200, stats.bytesProcessed());
            assertEquals(200, stats.peakDeferredBytes());
            me.unregister();
        }
    }

    @Test
    void quiescentPointsRunDueWorkOnceTheWriteSequenceReachesIt() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (Qsbr domain = Qsbr.create(); Peer reader = new Peer(domain)) {
            QsbrThread me = domain.register();
            me.defer(ran::incrementAndGet, domain.advance());
            reader.run(QsbrThread::quiescent);
            me.quiescent();
            assertEquals(1, ran.get(), "the quiescent point found the goal reached and ran the task");
            long goal = me.deferredAdvance();
            assertEquals(domain.writeSequence() + 2, goal, "a deferred goal is one step ahead, not advanced");
            me.defer(ran::incrementAndGet, goal);
            reader.run(QsbrThread::quiescent);
            me.quiescent();
            assertEquals(1, ran.get(), "nobody has advanced to the deferred goal");
            domain.advance();
            reader.run(QsbrThread::quiescent);
            me.quiescent();
            assertEquals(2, ran.get());
            me.unregister();
        }
    }

    @Test
    void everyAdvanceIntervalDeferredAdvancesReallyAdvance() {
        try (Qsbr domain = Qsbr.create(QsbrConfig.builder().advanceInterval(4).build())) {
            QsbrThread me = domain.register();
            long start = domain.writeSequence();
            for (int i = 0; i < 12; i++) {
                me.deferredAdvance();
            }
            assertEquals(start + 3 * 2, domain.writeSequence());
            me.unregister();
        }
    }

    @Test
    void closeReapsDeadThreadsRunsOrphansAndRejectsLaterRegistrations() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Qsbr domain = Qsbr.create();
        Peer blocker = new Peer(domain);
        QsbrThread me = domain.register();
        me.defer(ran::incrementAndGet);
        me.unregister();
        assertEquals(0, ran.get(), "the blocker is online and behind");
        blocker.end(); // dies online, unnoticed: nobody polls
        domain.close();
        assertEquals(1, ran.get(), "close dropped the dead blocker and ran the orphan");
        assertEquals(1, domain.stats().deadThreadsDetected());
        domain.close();
        assertThrows(IllegalStateException.class, domain::register);
    }
    @Test
    void closeRunsEveryOrphanEvenWhenSomeThrow() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Qsbr domain = Qsbr.create();
        Peer blocker = new Peer(domain);
        for (int queue = 0; queue < 2; queue++) { // two orphaned queues, each with a failing task before a good one
            QsbrThread me = domain.register();
            String message = "task " + queue + " fails";
            me.defer(() -> {
                throw new IllegalStateException(message);
            });
            me.defer(ran::incrementAndGet);
            me.unregister();
        }
        assertEquals(0, ran.get(), "the blocker is online and behind");
        blocker.end();
        IllegalStateException e = assertThrows(IllegalStateException.class, domain::close);
        assertEquals("task 0 fails", e.getMessage());
        assertEquals(1, e.getSuppressed().length, "the second failure is attached");
        assertEquals(2, ran.get(), "the good tasks ran although tasks before them threw");
        assertEquals(0, domain.stats().deferredItems(), "nothing is stranded in the closed domain");
        domain.close(); // closed: does nothing
    }
    @Test
    void anotherThreadPollingIsRegisteredSeesTheUnregistration() throws Exception {
        Qsbr domain = Qsbr.create();
        Peer peer = new Peer(domain);
        QsbrThread handle = peer.handle;
        CountDownLatch spinning = new CountDownLatch(1);
        // A tight loop gets compiled while the handle is registered; with a plain read of the flag the JIT may hoist
        // it and the loop never ends (then this daemon thread spins on after the test has failed).
        Thread watcher = new Thread(() -> {
            spinning.countDown();
            while (handle.isRegistered()) {
                // nothing: the answer must change by itself once the peer unregisters
            }
        }, "watcher");
        watcher.setDaemon(true);
        watcher.start();
        spinning.await();
        Thread.sleep(400); // long enough for the loop to be compiled
        peer.run(QsbrThread::unregister);
        watcher.join(2_000);
        assertFalse(watcher.isAlive(), "isRegistered() never turned false for a thread polling it");
        peer.end();
        domain.close();
    }

    @Test
    void anInterruptedThreadWaitsInSynchronizeWithoutSpinningAndKeepsItsInterrupt() throws Exception {
        // parkNanos returns at once while the interrupt flag is set: the wait spun a whole CPU for as long as the
        // reader held it back. It must park, and hand the interrupt back when the wait ends.
        try (Qsbr qsbr = Qsbr.create()) {
            java.util.concurrent.CountDownLatch registered = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            Thread reader = Thread.ofPlatform().start(() -> {
                QsbrThread handle = qsbr.register(); // online, and silent until released: holds every goal back
                registered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                handle.quiescent();
                handle.unregister();
            });
            registered.await();
            boolean[] interruptedAfter = new boolean[1];
            Thread waiter = Thread.ofPlatform().start(() -> {
                Thread.currentThread().interrupt();
                qsbr.synchronize();
                interruptedAfter[0] = Thread.currentThread().isInterrupted();
            });
            int parked = 0;
            int samples = 0;
            for (; samples < 100; samples++) { // a spinning waiter is RUNNABLE; a parked one TIMED_WAITING
                Thread.sleep(3);
                parked += waiter.getState() == Thread.State.TIMED_WAITING ? 1 : 0;
            }
            release.countDown();
            waiter.join();
            reader.join();
            assertTrue(interruptedAfter[0], "synchronize() lost the caller's interrupt");
            assertTrue(parked >= samples / 2, "the waiter was parked in only " + parked + " of " + samples
                    + " samples: it spun");
        }
    }
}
