package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Probes of owners that end without closing, while others hold and drop their objects. */
class OwnerExitProbeTest {

    @Test
    void objectsOfAnOwnerThatDiedWithoutClosingDieOnceItIsReaped() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            int n = 1000;
            long[] objs = new long[n];
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            for (boolean diesDetached : new boolean[] {false, true}) {
                try (ThreadState main = in.newThreadState()) {
                    main.detach();
                    Thread owner = Thread.ofPlatform().start(() -> {
                        try {
                            ThreadState ts = in.newThreadState();
                            for (int i = 0; i < n; i++) {
                                objs[i] = i % 4 == 0 ? Dicts.create(ts) : Floats.of(ts, i);
                            }
                            if (diesDetached) {
                                ts.detach();
                            }
                            // ends with its state open
                        } catch (Throwable t) {
                            errors.add(t);
                        }
                    });
                    owner.join();
                    main.attach();
                    long before = in.objectsFreed();
                    for (int i = 0; i < n; i++) {
                        Ref.decref(main, objs[i]);
                    }
                    // queued to the dead owner's state until someone reaps it, or merged by the finder
                    in.reapDeadThreads();
                    main.checkpoint();
                    assertEquals(n, in.objectsFreed() - before, "diesDetached=" + diesDetached);
                    for (long o : objs) {
                        assertFalse(Ref.isObject(main, o));
                    }
                }
            }
            assertTrue(errors.isEmpty(), () -> errors.toString());
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }

    @Test
    void instanceSlotsReadWhileWrittenFromManyThreads() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            long type;
            long obj;
            try (ThreadState main = in.newThreadState()) {
                type = Types.newHeapType(main, "Box", 4);
                obj = Instances.create(main, type);
                main.detach();
                CountDownLatch done = new CountDownLatch(3);
                Thread[] ts = new Thread[3];
                for (int w = 0; w < 3; w++) {
                    int me = w;
                    ts[w] = Thread.ofPlatform().start(() -> {
                        try (ThreadState t = in.newThreadState()) {
                            for (int i = 0; i < 3000; i++) {
                                int slot = (i + me) % 4;
                                if (me == 0) {
                                    long v = Strs.of(t, "slot" + slot);
                                    Instances.set(t, obj, slot, i % 7 == 0 ? 0 : v);
                                    Ref.decref(t, v);
                                } else {
                                    long v = Instances.get(t, obj, slot);
                                    if (v != 0) {
                                        assertEquals("slot" + slot, Strs.value(t, v));
                                        Ref.decref(t, v);
                                    }
                                }
                                if (i % 16 == 0) {
                                    t.checkpoint();
                                }
                            }
                        } catch (Throwable e) {
                            errors.add(e);
                        } finally {
                            done.countDown();
                        }
                    });
                }
                done.await();
                for (Thread t : ts) {
                    t.join();
                }
                main.attach();
                assertTrue(errors.isEmpty(), () -> errors.toString());
                Ref.decref(main, obj);
                Ref.decref(main, type);
                Gc.collect(main);
                assertFalse(Ref.isObject(main, type));
            }
            assertEquals(0, in.release().orElseThrow().leakedObjects());
        }
    }
}
