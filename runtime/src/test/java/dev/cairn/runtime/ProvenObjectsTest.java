package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The owner's memo of proven objects ({@link ProvenObjects}) never outlives an object: for each way an object the
 * owner has proven can stop being its own and die, the owner's next checked call on the stale address is refused
 * as a use after free, as it is without the memo. Each case proves the object first (an incref), so that it is in
 * the memo when it dies. Each of the five places that take objects out (free, giving up the bias, a queue's merge,
 * the collector's clear, detach) is needed by a case here: with its line removed that case's stale incref lands in
 * freed memory and throws nothing. A hit in the memo also stands for the thread state's own checks, so two more
 * cases: a proven object does not let a detached state, or the state from another thread, be used.
 */
class ProvenObjectsTest {

    private Runtime rt;
    private Interpreter interp;
    private ThreadState owner;

    @BeforeEach
    void setUp() {
        rt = Runtime.create();
        interp = rt.newInterpreter(InterpreterConfig.isolated());
        owner = interp.newThreadState();
    }

    @AfterEach
    void tearDown() {
        owner.close();
        DestroyReport report = interp.release().orElseThrow();
        rt.close();
        assertEquals(0, report.leakedObjects(), () -> "leaked " + report.leakedByType());
    }

    @Test
    void ownerFreesIt() {
        long obj = Ints.of(owner, 1L << 40);
        Ref.incref(owner, obj);
        Ref.decref(owner, obj);
        Ref.decref(owner, obj);
        assertRefused(obj);
    }

    @Test
    void ownerDropsItsLastLocalReferenceAndAnotherThreadFreesIt() throws Exception {
        long obj = Ints.of(owner, 1L << 41);
        Ref.incref(owner, obj); // proven, two local references
        onOtherThread(ts -> Ref.incref(ts, obj)); // a shared one
        Ref.decref(owner, obj);
        Ref.decref(owner, obj); // local count zero with the shared one out: the owner gives up the bias
        onOtherThread(ts -> Ref.decref(ts, obj)); // the last reference, dropped and freed by another thread
        assertRefused(obj);
    }

    @Test
    void ownerMergesItsQueueAtACheckpointAndAnotherThreadFreesIt() throws Exception {
        long obj = Ints.of(owner, 1L << 42);
        Ref.incref(owner, obj); // proven, two local references; one goes to another thread
        onOtherThread(ts -> Ref.decref(ts, obj)); // shared count below zero: queued to the owner
        owner.checkpoint(); // the owner merges: one reference left, shared
        onOtherThread(ts -> Ref.decref(ts, obj)); // the last one, freed there
        assertRefused(obj);
    }

    @Test
    void anotherThreadMergesTheDetachedOwnersQueueAndFreesIt() throws Exception {
        long obj = Ints.of(owner, 1L << 43);
        Ref.incref(owner, obj);
        owner.detach();
        onOtherThread(ts -> {
            Ref.decref(ts, obj); // queued to a detached owner: merged on its behalf, here
            Ref.decref(ts, obj); // and the last reference
        });
        owner.attach();
        assertRefused(obj);
    }

    @Test
    void theCollectorOnAnotherThreadFreesItsCycle() throws Exception {
        long list = Lists.create(owner);
        Lists.append(owner, list, list); // a cycle through the list itself; proven on the way
        Ref.incref(owner, list);
        Ref.decref(owner, list);
        Ref.decref(owner, list); // only the cycle holds it now
        owner.detach();
        long[] freed = new long[1];
        onOtherThread(ts -> freed[0] = Gc.collect(ts));
        owner.attach();
        assertEquals(1, freed[0], "the cycle is garbage");
        assertRefused(list);
    }

    @Test
    void aProvenObjectDoesNotLetADetachedStateBeUsed() {
        long obj = Ints.of(owner, 1L << 44);
        Ref.incref(owner, obj);
        owner.detach();
        assertThrows(IllegalStateException.class, () -> Ref.incref(owner, obj), "detached");
        owner.attach();
        Ref.decref(owner, obj);
        Ref.decref(owner, obj);
    }

    @Test
    void aProvenObjectDoesNotLetAnotherThreadUseTheState() throws Exception {
        long obj = Ints.of(owner, 1L << 45);
        Ref.incref(owner, obj);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().start(() -> {
            try {
                Ref.incref(owner, obj); // the owner's state, from a thread that is not its own
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        thread.join();
        assertEquals(WrongThreadException.class, thrown.get() == null ? null : thrown.get().getClass());
        Ref.decref(owner, obj);
        Ref.decref(owner, obj);
    }

    @Test
    void theCollectorFreesTheCycleOfAnOwnerStoppedAtACheckpoint() throws Exception {
        AtomicLong cycle = new AtomicLong();
        CountDownLatch made = new CountDownLatch(1);
        AtomicBoolean collected = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread worker = Thread.ofPlatform().start(() -> {
            try (ThreadState ts = interp.newThreadState()) {
                long list = Lists.create(ts);
                Lists.append(ts, list, list);
                Ref.incref(ts, list); // proven, in the worker's memo
                Ref.decref(ts, list);
                Ref.decref(ts, list); // only the cycle holds it now
                cycle.set(list);
                made.countDown();
                while (!collected.get()) {
                    ts.checkpoint(); // attached: the collection stops it here, its memo as it was
                }
                try {
                    Ref.incref(ts, list);
                    failure.set(new AssertionError("the collected cycle's address was taken for a live object"));
                } catch (IllegalArgumentException expected) {
                    // refused: the collector cleared the memo
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        });
        made.await();
        long freed = Gc.collect(owner);
        collected.set(true);
        worker.join();
        assertEquals(1, freed, "the cycle is garbage");
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    private void assertRefused(long stale) {
        assertThrows(IllegalArgumentException.class, () -> Ref.incref(owner, stale), "incref of a freed object");
        assertThrows(IllegalArgumentException.class, () -> Ref.decref(owner, stale), "decref of a freed object");
    }

    /** Runs {@code body} on a new thread with a thread state of its own, and waits for it. */
    private void onOtherThread(Consumer<ThreadState> body) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().start(() -> {
            try (ThreadState ts = interp.newThreadState()) {
                body.accept(ts);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        thread.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }
}
