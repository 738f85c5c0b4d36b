package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * An unmap waits for every check in flight ({@code SegmentStore.enterCheck}): on a virtual thread (which takes the
 * CAS slots), one that holds its thread's slot and one counted in the shared counter because the slot was taken
 * (here by the same thread's outer check, which is what a thread whose id hashes to a busy slot also gets); on a
 * platform thread, nested checks marked without atomics ({@link CheckMarks}). Deterministic: a checker thread holds
 * its checks open while another thread's {@code collect(true)} unmaps a cached huge segment, and the collect must
 * not return until the last check has exited.
 */
class ChecksInFlightTest {

    private static final long HUGE = 1L << 20; // above LARGE_MAX: a segment of its own, cached at its free

    @Test
    void anUnmapWaitsForASlotCheckAndAnOverflowCheck() throws Exception {
        anUnmapWaitsForTwoNestedChecks(Thread.ofVirtual());
    }

    @Test
    void anUnmapWaitsForTwoNestedMarkedChecks() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(CheckMarks.enabled(), "no asymmetric barrier here");
        anUnmapWaitsForTwoNestedChecks(Thread.ofPlatform());
    }

    private void anUnmapWaitsForTwoNestedChecks(Thread.Builder checkerThread) throws Exception {
        try (Allocator created = Allocator.create()) {
            AllocatorImpl allocator = (AllocatorImpl) created;
            SegmentStore store = allocator.store();
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch exitInner = new CountDownLatch(1);
            CountDownLatch innerExited = new CountDownLatch(1);
            CountDownLatch exitOuter = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread checker = checkerThread.start(() -> {
                try {
                    int outer = store.enterCheck(); // takes the thread's slot (or its mark)
                    int inner = store.enterCheck(); // the slot is held: the shared counter (or the mark counts 2)
                    entered.countDown();
                    exitInner.await();
                    store.exitCheck(inner);
                    innerExited.countDown();
                    exitOuter.await();
                    store.exitCheck(outer);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            allocator.free(allocator.malloc(HUGE)); // kept mapped in the store's cache until a collect
            Thread collector = Thread.ofPlatform().start(() -> {
                try {
                    allocator.collect(true); // unmaps the cached segment: waits for the checks
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            collector.join(300);
            assertTrue(collector.isAlive(), "the unmap did not wait for two checks in flight");
            exitInner.countDown();
            assertTrue(innerExited.await(10, TimeUnit.SECONDS));
            collector.join(300);
            assertTrue(collector.isAlive(), "the unmap did not wait for the check in the thread's slot");
            exitOuter.countDown();
            collector.join(10_000);
            checker.join(10_000);
            assertFalse(collector.isAlive(), "the unmap still waits after every check exited");
            assertNull(failure.get());
        }
    }

    @Test
    void anUnmapWaitsForAFreeMarkedWithoutAnAtomic() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(CheckMarks.enabled(), "no asymmetric barrier here");
        // A thread's mark slot is its id's (mod the table): a live thread, or a dead one whose Cleaner has not run,
        // may hold it (in a full test run, hundreds of threads came before), and then no mark is taken. Try fresh
        // threads until one gets a slot.
        for (int attempt = 0; attempt < 50; attempt++) {
            boolean ran = assertAnUnmapWaitsForOneCheck(Thread.ofPlatform(), "a marked free", store -> {
                int mark = CheckMarks.enter(); // what a remote free's proof holds
                return mark == CheckMarks.NONE ? null : () -> CheckMarks.exit(mark);
            });
            if (ran) {
                return;
            }
        }
        org.junit.jupiter.api.Assumptions.abort("50 fresh platform threads found their mark slots taken");
    }

    @Test
    void aThreadsMarkSlotIsFreedOnceTheThreadIsGone() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(CheckMarks.enabled(), "no asymmetric barrier here");
        try (Allocator created = Allocator.create()) {
            SegmentStore store = ((AllocatorImpl) created).store();
            long[] tid = new long[1];
            Thread checker = Thread.ofPlatform().start(() -> {
                tid[0] = Thread.currentThread().threadId();
                store.exitCheck(store.enterCheck());
            });
            checker.join();
            org.junit.jupiter.api.Assumptions.assumeTrue(CheckMarks.slotOwner(tid[0]) == tid[0],
                    "another thread held the slot: this thread used the CAS slots");
            checker = null; // the Thread object must become unreachable for its Cleaner to run
            for (int i = 0; i < 200 && CheckMarks.slotOwner(tid[0]) == tid[0]; i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertTrue(CheckMarks.slotOwner(tid[0]) != tid[0], "the ended thread still holds its mark slot");
        }
    }

    @Test
    void aThreadTakesOverTheSlotOfAnEndedThreadThatNoCollectionHasFreed() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(CheckMarks.enabled(), "no asymmetric barrier here");
        long[] tid = new long[1];
        Thread first = Thread.ofPlatform().start(() -> {
            tid[0] = Thread.currentThread().threadId();
            int mark = CheckMarks.enter();
            if (mark != CheckMarks.NONE) {
                CheckMarks.exit(mark);
            }
        });
        first.join(); // ended; still reachable here, so its Cleaner cannot give the slot back
        org.junit.jupiter.api.Assumptions.assumeTrue(CheckMarks.slotOwner(tid[0]) == tid[0],
                "another thread held the slot: the first thread used the CAS slots");
        // thread ids are sequential: start threads until one's id shares the first one's slot
        for (int attempt = 0; attempt < 2_000; attempt++) {
            long[] result = new long[2]; // the new thread's id, whether it marked
            Thread next = Thread.ofPlatform().start(() -> {
                long me = Thread.currentThread().threadId();
                result[0] = me;
                if (CheckMarks.slotOwner(me) == tid[0]) {
                    int mark = CheckMarks.enter();
                    result[1] = mark != CheckMarks.NONE && CheckMarks.slotOwner(me) == me ? 1 : -1;
                    if (mark != CheckMarks.NONE) {
                        CheckMarks.exit(mark);
                    }
                }
            });
            next.join();
            if (result[1] != 0) {
                assertEquals(1L, result[1], "thread " + result[0] + " found its slot held by ended thread " + tid[0]
                        + " and took the CAS slots instead of the slot");
                assertTrue(first.getState() == Thread.State.TERMINATED);
                return;
            }
        }
        org.junit.jupiter.api.Assumptions.abort("no new thread's id shared the ended thread's slot");
    }

    @Test
    void anUnmapWaitsForAnOverflowCheckAlone() throws Exception {
        // virtual: the CAS slots, not CheckMarks
        assertTrue(assertAnUnmapWaitsForOneCheck(Thread.ofVirtual(), "the check in the shared counter", store -> {
            int outer = store.enterCheck();
            int inner = store.enterCheck();
            store.exitCheck(outer); // the slot is free again; the overflow check stays in flight
            return () -> store.exitCheck(inner);
        }));
    }

    /**
     * A checker thread enters one check ({@code hold}, which returns how to end it, or null when it could not enter
     * one: then this returns false at once) and holds it while another thread's {@code collect(true)} unmaps a
     * cached huge segment: the collect waits until the check has ended.
     */
    private static boolean assertAnUnmapWaitsForOneCheck(Thread.Builder checkerThread, String what,
            java.util.function.Function<SegmentStore, Runnable> hold) throws Exception {
        try (Allocator created = Allocator.create()) {
            AllocatorImpl allocator = (AllocatorImpl) created;
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch exit = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicReference<Boolean> held = new AtomicReference<>();
            Thread checker = checkerThread.start(() -> {
                try {
                    Runnable end = hold.apply(allocator.store());
                    held.set(end != null);
                    entered.countDown();
                    if (end != null) {
                        exit.await();
                        end.run();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    entered.countDown();
                }
            });
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            assertNull(failure.get());
            if (!held.get()) {
                checker.join();
                return false;
            }
            allocator.free(allocator.malloc(HUGE));
            Thread collector = Thread.ofPlatform().start(() -> allocator.collect(true));
            collector.join(300);
            assertTrue(collector.isAlive(), "the unmap did not wait for " + what);
            exit.countDown();
            collector.join(10_000);
            checker.join(10_000);
            assertFalse(collector.isAlive(), "the unmap still waits after " + what + " ended");
            assertNull(failure.get());
            return true;
        }
    }
}
