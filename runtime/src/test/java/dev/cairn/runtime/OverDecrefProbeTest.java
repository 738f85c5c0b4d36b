package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * One decref too many, split between a non-owner (queued to the owner) and the owner: detected, and no block is
 * freed twice or merged after its free.
 */
class OverDecrefProbeTest {

    @Test
    void anOverDecrefThroughTheOwnersQueueIsDetectedNotADoubleFree() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState owner = in.newThreadState()) {
                for (int round = 0; round < 20; round++) {
                    long victim = Strs.of(owner, "victim");
                    AtomicReference<Throwable> other = new AtomicReference<>();
                    Thread t = Thread.ofPlatform().start(() -> {
                        try (ThreadState ts = in.newThreadState()) {
                            Ref.decref(ts, victim); // a reference it never had: queued to the attached owner
                        } catch (Throwable e) {
                            other.set(e);
                        }
                    });
                    t.join();
                    assertEquals(null, other.get());
                    // the owner drops its own reference: the count is now one below zero
                    assertThrows(IllegalStateException.class, () -> Ref.decref(owner, victim));
                    // new objects of the same size take the block; the queued merge must not reach any of them
                    long[] next = new long[2000];
                    for (int i = 0; i < next.length; i++) {
                        next[i] = Strs.of(owner, "victim");
                    }
                    owner.checkpoint(); // merges the queue
                    for (long n : next) {
                        assertTrue(Ref.isObject(owner, n), "round " + round + ": a live object was freed by the "
                                + "merge of a freed one");
                        assertEquals("victim", Strs.value(owner, n));
                        assertEquals(1, Ref.refcount(owner, n));
                        Ref.decref(owner, n);
                    }
                }
            }
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }
}
