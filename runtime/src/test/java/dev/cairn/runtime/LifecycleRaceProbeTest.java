package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Probes of destruction racing with threads that join, and with the runtime's close. */
class LifecycleRaceProbeTest {

    @Test
    void aThreadStateIsNeverMadeInAnInterpreterBeingDestroyed() throws Exception {
        try (Runtime rt = Runtime.create()) {
            AtomicInteger joinedLate = new AtomicInteger();
            for (int round = 0; round < 100; round++) {
                Interpreter in = rt.newInterpreter(round % 2 == 0 ? InterpreterConfig.isolated()
                        : InterpreterConfig.sharedAllocator());
                ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                AtomicBoolean destroyed = new AtomicBoolean();
                CountDownLatch go = new CountDownLatch(1);
                Thread joiner = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        go.await();
                        while (true) {
                            ThreadState ts;
                            try {
                                ts = in.newThreadState();
                            } catch (IllegalStateException refused) {
                                return; // destroyed: the clear refusal we want
                            }
                            try {
                                if (destroyed.get()) {
                                    joinedLate.incrementAndGet();
                                    errors.add(new AssertionError("a thread state of a destroyed interpreter"));
                                }
                                long s = Strs.of(ts, "joiner");
                                Ref.decref(ts, s);
                            } finally {
                                ts.close();
                            }
                        }
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
                go.countDown();
                while (true) {
                    try {
                        in.destroy();
                        destroyed.set(true);
                        break;
                    } catch (IllegalStateException busy) {
                        Thread.onSpinWait(); // the joiner has a thread state open now: try again
                    }
                }
                joiner.join(30_000);
                assertFalse(joiner.isAlive(), "joiner hung");
                if (!errors.isEmpty()) {
                    AssertionError e = new AssertionError("round " + round);
                    errors.forEach(e::addSuppressed);
                    throw e;
                }
            }
            assertEquals(0, joinedLate.get());
        }
    }
}
