package dev.cairn.reclaim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input and wrong use: each gets a clear exception, and the domain stays usable afterwards. */
class QsbrMisuseTest {

    private static final QsbrConfig WITH_FREE = QsbrConfig.builder().free(a -> { }).sizeOf(a -> 8).build();

    /** Runs {@code use} on another thread and returns what it threw (null if nothing). */
    private static Throwable fromOtherThread(Runnable use) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                use.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        t.join();
        return thrown.get();
    }

    @Test
    void aHandleUsedFromAnotherThreadThrowsWrongThreadException() throws Exception {
        try (Qsbr domain = Qsbr.create(WITH_FREE)) {
            QsbrThread mine = domain.register();
            assertTrue(QsbrMisuseTest.class.desiredAssertionStatus(), "tests run with -ea");
            for (Consumer<QsbrThread> use : java.util.List.<Consumer<QsbrThread>>of(
                    QsbrThread::quiescent, QsbrThread::detach, QsbrThread::attach, QsbrThread::isAttached,
                    QsbrThread::deferredAdvance, h -> h.defer(64L), h -> h.defer(() -> { }),
                    QsbrThread::processDeferred, QsbrThread::unregister)) {
                Throwable t = fromOtherThread(() -> use.accept(mine));
                assertTrue(t instanceof WrongThreadException, "expected WrongThreadException, got " + t);
            }
            mine.quiescent(); // still fine on its own thread
            mine.unregister();
        }
    }

    @Test
    void aHandleUsedAfterUnregisterThrowsIllegalState() {
        try (Qsbr domain = Qsbr.create(WITH_FREE)) {
            QsbrThread h = domain.register();
            h.unregister();
            for (Executable use : java.util.List.<Executable>of(h::quiescent, h::detach, h::attach, h::unregister,
                    () -> h.defer(64L), () -> h.defer(() -> { }, domain.advance()), h::processDeferred)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, use);
                assertTrue(e.getMessage().contains("unregistered"), e.getMessage());
            }
            domain.register().unregister(); // the thread may register again
        }
    }

    @Test
    void goalsThatCannotComeFromTheDomainAreRejected() {
        try (Qsbr domain = Qsbr.create(WITH_FREE)) {
            QsbrThread h = domain.register();
            long wr = domain.writeSequence();
            assertThrows(IllegalArgumentException.class, () -> domain.poll(wr + 4), "beyond the next advance");
            assertThrows(IllegalArgumentException.class, () -> domain.poll(wr + 1), "even");
            assertThrows(IllegalArgumentException.class, () -> domain.poll(0), "zero is the offline mark");
            assertThrows(IllegalArgumentException.class, () -> domain.poll(-3));
            assertThrows(IllegalArgumentException.class, () -> h.defer(64L, wr + 100));
            assertThrows(IllegalArgumentException.class, () -> h.defer(() -> { }, 2));
            domain.poll(wr + 2); // a deferred goal is fine (and not reached)
            assertEquals(0, domain.stats().deferredItems(), "nothing was queued by the rejected calls");
            h.unregister();
        }
    }

    @Test
    void nullWorkAndNegativeSizesAreRejected() {
        try (Qsbr domain = Qsbr.create(QsbrConfig.builder().free(a -> { }).sizeOf(a -> -1).build())) {
            QsbrThread h = domain.register();
            assertThrows(NullPointerException.class, () -> h.defer((Runnable) null));
            assertThrows(NullPointerException.class, () -> h.defer(null, domain.advance()));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.defer(0x40L));
            assertTrue(e.getMessage().contains("-1"), e.getMessage());
            assertEquals(0, domain.stats().deferredItems());
            h.unregister();
        }
    }

    @Test
    void deferringAnAddressWithoutAFreeFunctionIsRejected() {
        try (Qsbr domain = Qsbr.create()) {
            QsbrThread h = domain.register();
            assertThrows(IllegalStateException.class, () -> h.defer(0x40L));
            h.defer(() -> { }); // tasks are fine
            h.unregister();
        }
    }

    @Test
    void stateMachineMisuseIsRejected() {
        try (Qsbr domain = Qsbr.create()) {
            QsbrThread h = domain.register();
            assertThrows(IllegalStateException.class, h::attach, "registered handles start online");
            assertThrows(IllegalStateException.class, domain::register, "one registration per thread");
            assertThrows(IllegalStateException.class, domain::synchronize, "it would wait for itself");
            h.detach();
            assertThrows(IllegalStateException.class, h::detach);
            assertThrows(IllegalStateException.class, h::quiescent, "-ea catches quiescent() while offline");
            domain.synchronize(); // fine while detached
            h.attach();
            h.defer(() -> assertThrows(IllegalStateException.class, h::unregister), domain.advance());
            domain.advance();
            assertEquals(1, h.processDeferred(), "the nested unregister was refused inside the task");
            assertThrows(IllegalStateException.class, domain::close, "a live thread is registered");
            h.unregister();
        }
    }

    @Test
    void badConfigurationsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> QsbrConfig.builder().deferredBytesLimit(0).build());
        assertThrows(IllegalArgumentException.class, () -> QsbrConfig.builder().deferredBytesLimit(-1).build());
        assertThrows(IllegalArgumentException.class, () -> QsbrConfig.builder().queueThreshold(0).build());
        assertThrows(IllegalArgumentException.class, () -> QsbrConfig.builder().advanceInterval(-5).build());
        assertThrows(IllegalArgumentException.class, () -> QsbrConfig.builder().initialSlots(0).build());
        assertThrows(IllegalArgumentException.class,
                () -> QsbrConfig.builder().maxStall(Duration.ofMillis(-1)).build());
        assertThrows(NullPointerException.class, () -> QsbrConfig.builder().sizeOf(null));
        assertThrows(NullPointerException.class, () -> QsbrConfig.builder().maxStall(null));
        assertThrows(NullPointerException.class, () -> Qsbr.create(null));
        QsbrConfig c = QsbrConfig.defaults();
        assertEquals(c, c.toBuilder().build());
        assertEquals(1 << 20, c.deferredBytesLimit());
    }

    @Test
    void aFailingFreeFunctionPropagatesAndTheQueueStaysConsistent() {
        QsbrConfig config = QsbrConfig.builder().free(a -> {
            if (a == 0xBAD) {
                throw new IllegalStateException("free failed");
            }
        }).sizeOf(a -> 16).build();
        try (Qsbr domain = Qsbr.create(config)) {
            QsbrThread h = domain.register();
            h.defer(0xBAD, domain.advance());
            h.defer(0x600D, domain.advance());
            // the quiescent point runs the first item (nobody else is online); it throws out of quiescent()
            assertThrows(IllegalStateException.class, h::quiescent);
            assertEquals(1, h.processDeferred(), "the good item is still there and runs");
            QsbrStats s = domain.stats();
            assertEquals(0, s.deferredItems());
            assertEquals(2, s.itemsProcessed());
            assertEquals(0, s.deferredBytes());
            h.unregister();
        }
    }

    @Test
    void aDeferThatRunsAFailingItemStillQueuesItsOwn() {
        java.util.List<Long> freed = new java.util.ArrayList<>();
        QsbrConfig config = QsbrConfig.builder().free(a -> {
            freed.add(a);
            if (a == 0xBAD) {
                throw new IllegalStateException("free failed");
            }
        }).sizeOf(a -> 16).queueThreshold(1).build();
        try (Qsbr domain = Qsbr.create(config)) {
            QsbrThread h = domain.register();
            h.defer(0xBAD, domain.advance());
            domain.advance();
            // the queue is at its threshold: this defer runs the due item first, which throws out of it
            assertThrows(IllegalStateException.class, () -> h.defer(0x600D, domain.advance()));
            assertEquals(1, domain.stats().deferredItems(), "the item of the failed defer is queued");
            assertEquals(16, domain.stats().deferredBytes());
            assertEquals(1, h.processDeferred());
            assertEquals(java.util.List.of(0xBADL, 0x600DL), freed);
            h.unregister();
        }
    }
}
