package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Probes of the collector: exact counts when the last outside reference is dropped by the collection itself. */
class GcProbeTest {

    /** Runs {@code body} on a new thread with a thread state that stays open, detached, until {@code done}. */
    private static Thread parked(Interpreter in, AtomicReference<Throwable> error, CountDownLatch ready,
            CountDownLatch done, java.util.function.Consumer<ThreadState> body) {
        return Thread.ofPlatform().start(() -> {
            try (ThreadState ts = in.newThreadState()) {
                body.accept(ts);
                ts.detach(); // alive, holding its queue and its delayed decrefs, not at a checkpoint
                ready.countDown();
                done.await();
                ts.attach();
            } catch (Throwable e) {
                error.compareAndSet(null, e);
                ready.countDown();
            }
        });
    }

    /**
     * The collector runs every thread's delayed decrefs inside its pause. One that drops the last outside reference
     * to a cycle owned by a thread whose queue it has already merged queues the object there (the collector is not
     * its owner): the cycle must still die in this collection, not be taken for referenced from outside.
     */
    @Test
    void aCycleWhoseLastOutsideReferenceIsADelayedDecrefDiesInThatCollection() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState main = in.newThreadState()) {
                long dict = Dicts.create(main);
                long key = Strs.of(main, "cycle");
                AtomicReference<Throwable> error = new AtomicReference<>();
                CountDownLatch done = new CountDownLatch(1);
                // the owner first (a lower table index than the remover): the collector merges its queue first
                CountDownLatch ownerReady = new CountDownLatch(1);
                Thread owner = parked(in, error, ownerReady, done, ts -> {
                    long cycle = Lists.create(ts);
                    Lists.append(ts, cycle, cycle);
                    Dicts.put(ts, dict, key, cycle);
                    Ref.decref(ts, cycle); // left: its own item and the dict's entry, both in the owner's local
                });
                ownerReady.await();
                CountDownLatch removerReady = new CountDownLatch(1);
                Thread remover = parked(in, error, removerReady, done, ts -> {
                    if (!Dicts.remove(ts, dict, key)) { // the dict's reference: a delayed decref of the remover
                        throw new AssertionError("key missing");
                    }
                });
                removerReady.await();
                assertEquals(null, error.get());
                try {
                    assertEquals(1, Gc.collect(main), "the cycle dies in the collection that drops its last "
                            + "outside reference");
                    assertEquals(0, Gc.collect(main));
                } finally {
                    done.countDown();
                    owner.join();
                    remover.join();
                }
                assertEquals(null, error.get());
                Ref.decref(main, key);
                Ref.decref(main, dict);
            }
            DestroyReport report = in.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), () -> "leaked " + report.leakedByType());
        }
    }
    /**
     * Counts past what the collector's 32-bit {@code gc_refs} holds: a container whose owner's count overflowed
     * (2^32 - 1 references: immortal, as CPython makes it) and one with 2^31 references. Neither is garbage; the
     * collector must neither free the first (its count reads -1) nor fail on the second. Counting that far takes
     * minutes, so the owner's local count is moved near the edge directly, as that many increfs would leave it.
     */
    @Test
    void containersWithHugeOrOverflowedCountsAreNotGarbage() {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState ts = in.newThreadState()) {
                long immortal = Lists.create(ts);
                long item = Strs.of(ts, "kept by the immortal list");
                Lists.append(ts, immortal, item);
                Ref.decref(ts, item);
                Raw.putInt(immortal + ObjectLayout.OB_REF_LOCAL, ObjectLayout.IMMORTAL_LOCAL - 2);
                Ref.incref(ts, immortal);
                Ref.incref(ts, immortal); // the 2^32 - 1st: immortal from now on
                assertEquals(-1, Ref.refcount(ts, immortal));
                assertTrue(Ref.isImmortal(ts, immortal), "an overflowed count makes the object immortal");

                long huge = Lists.create(ts);
                Lists.append(ts, huge, huge);
                long hugeItem = Ints.of(ts, 1 << 20);
                Lists.append(ts, huge, hugeItem);
                Ref.decref(ts, hugeItem);
                Raw.putInt(huge + ObjectLayout.OB_REF_LOCAL, Integer.MIN_VALUE); // 2^31 (unsigned)

                assertEquals(0, Gc.collect(ts));
                assertEquals(1, Lists.size(ts, immortal));
                long got = Lists.get(ts, immortal, 0);
                assertEquals("kept by the immortal list", Strs.value(ts, got));
                Ref.decref(ts, got);
                assertEquals(2, Lists.size(ts, huge));
                assertEquals(1L << 31, Ref.refcount(ts, huge));

                // back to the two real references (its own item and ours): the cycle is garbage again
                Raw.putInt(huge + ObjectLayout.OB_REF_LOCAL, 2);
                Ref.decref(ts, huge);
                assertEquals(2, Gc.collect(ts)); // the list and its int
                Ref.decref(ts, immortal); // no effect
                assertEquals(1, Lists.size(ts, immortal));
            }
            DestroyReport report = in.release().orElseThrow();
            // immortal objects are never freed by counting: destruction frees them (the list and its str)
            assertEquals(2, report.leakedObjects(), () -> "leaked " + report.leakedByType());
        }
    }
    /**
     * A collection returns what it freed, not what other threads free once their world runs again: a thread that
     * waited to attach during the pause frees its own objects as soon as it is let go, while the collector is still
     * on its way out of {@code collect}. There is no garbage here, so every collection must return 0.
     */
    @Test
    void aCollectionDoesNotCountWhatOthersFreeAfterItsPause() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> error = new AtomicReference<>();
            Thread churn = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = in.newThreadState()) {
                    long[] objs = new long[64];
                    while (!stop.get()) {
                        for (int i = 0; i < objs.length; i++) {
                            objs[i] = Ints.of(ts, 1000 + i);
                        }
                        ts.detach(); // a pause may start here: attach waits for its end
                        ts.attach();
                        for (long o : objs) {
                            Ref.decref(ts, o); // freed at once, racing with the collector's return
                        }
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                }
            });
            try (ThreadState ts = in.newThreadState()) {
                long deadline = System.nanoTime() + 3_000_000_000L;
                int collections = 0;
                while (System.nanoTime() < deadline && error.get() == null) {
                    long freed = Gc.collect(ts);
                    collections++;
                    assertEquals(0, freed, "collection " + collections + " freed objects, with no garbage");
                }
            } finally {
                stop.set(true);
                churn.join();
            }
            assertEquals(null, error.get());
            DestroyReport report = in.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), () -> "leaked " + report.leakedByType());
        }
    }
}
