package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Probes with virtual threads: thread states, shared containers, collections and pauses. */
class VirtualThreadProbeTest {

    @Test
    void virtualThreadsShareContainersWhileCollectionsRun() throws Exception {
        for (InterpreterConfig config : new InterpreterConfig[] {InterpreterConfig.isolated(),
            InterpreterConfig.sharedAllocator()}) {
            try (Runtime rt = Runtime.create()) {
                Interpreter in = rt.newInterpreter(config);
                ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                long list;
                long dict;
                try (ThreadState main = in.newThreadState()) {
                    list = Lists.create(main);
                    dict = Dicts.create(main);
                    main.detach();
                    AtomicBoolean stop = new AtomicBoolean();
                    Thread collector = Thread.ofPlatform().start(() -> {
                        try (ThreadState ts = in.newThreadState()) {
                            while (!stop.get()) {
                                Gc.collect(ts);
                                ts.checkpoint();
                            }
                        } catch (Throwable t) {
                            errors.add(t);
                        }
                    });
                    List<Thread> vts = new ArrayList<>();
                    for (int v = 0; v < 200; v++) {
                        int me = v;
                        vts.add(Thread.ofVirtual().start(() -> {
                            try (ThreadState ts = in.newThreadState()) {
                                for (int i = 0; i < 50; i++) {
                                    long s = Strs.of(ts, "v" + me);
                                    long k = Ints.of(ts, 10_000 + me);
                                    Lists.append(ts, list, s);
                                    Dicts.put(ts, dict, k, s);
                                    long got = Dicts.get(ts, dict, k);
                                    assertEquals("v" + me, Strs.value(ts, got));
                                    Ref.decref(ts, got);
                                    long c = Lists.create(ts); // garbage cycle
                                    Lists.append(ts, c, c);
                                    Ref.decref(ts, c);
                                    Ref.decref(ts, s);
                                    Ref.decref(ts, k);
                                    ts.checkpoint();
                                    if (i % 10 == 0) {
                                        Thread.yield();
                                    }
                                }
                            } catch (Throwable t) {
                                errors.add(t);
                            }
                        }));
                    }
                    for (Thread t : vts) {
                        t.join(120_000);
                        assertFalse(t.isAlive(), "virtual thread hung");
                    }
                    stop.set(true);
                    collector.join(120_000);
                    assertFalse(collector.isAlive());
                    main.attach();
                    if (!errors.isEmpty()) {
                        AssertionError e = new AssertionError(errors.size() + " failed");
                        errors.forEach(e::addSuppressed);
                        throw e;
                    }
                    assertEquals(200 * 50, Lists.size(main, list));
                    assertEquals(200, Dicts.size(main, dict));
                    Ref.decref(main, list);
                    Ref.decref(main, dict);
                }
                DestroyReport report = in.release().orElseThrow();
                assertEquals(0, report.leakedObjects(), () -> "leaked " + report.leakedByType());
                assertTrue(in.isDestroyed());
            }
        }
    }
}
