package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Objects made on one thread, shared through a list, a dict and instance slots, counted up and down on others,
 * made into cycles through every container kind, while owners end (closing, or not) half-way and a collector runs:
 * every object is freed exactly once (the checked allocator throws on a second free, checked APIs on a freed
 * object) and nothing is left at destruction.
 */
class SharedRefcountProbeTest {

    @Test
    void objectsSharedAcrossThreadsThatComeAndGoAreFreedExactlyOnce() throws Exception {
        long seed = System.nanoTime();
        System.out.println("SharedRefcountProbeTest seed=" + seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            long list;
            long dict;
            long type;
            try (ThreadState main = in.newThreadState()) {
                list = Lists.create(main);
                dict = Dicts.create(main);
                type = Types.newHeapType(main, "Node", 2);
                for (int i = 0; i < 64; i++) {
                    Lists.append(main, list, rt.none());
                }
                Thread collector = Thread.ofPlatform().start(() -> {
                    try (ThreadState ts = in.newThreadState()) {
                        while (!stop.get()) {
                            Gc.collect(ts);
                            ts.detach();
                            Thread.sleep(2);
                            ts.attach();
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
                int generation = 0;
                while (System.nanoTime() < deadline && errors.isEmpty()) {
                    List<Thread> workers = new ArrayList<>();
                    for (int w = 0; w < 4; w++) {
                        long wseed = seed + generation * 31L + w;
                        boolean closes = w % 2 == 0;
                        Runnable body = () -> work(rt, in, list, dict, type, new SplittableRandom(wseed), closes,
                                errors);
                        workers.add(w == 3 ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body));
                    }
                    main.detach(); // a blocking call: attached, we would hold up every pause
                    for (Thread t : workers) {
                        t.join(TimeUnit.SECONDS.toMillis(30));
                        if (t.isAlive()) {
                            for (Thread other : workers) {
                                System.out.println(other + ": " + java.util.Arrays.toString(other.getStackTrace()));
                            }
                            System.out.println(collector + ": "
                                    + java.util.Arrays.toString(collector.getStackTrace()));
                        }
                        assertTrue(!t.isAlive(), "seed " + seed + ": a worker hangs");
                    }
                    main.attach();
                    generation++;
                    main.checkpoint();
                }
                stop.set(true);
                main.detach();
                collector.join();
                main.attach();
                assertTrue(errors.isEmpty(), () -> "seed " + seed + ": " + errors.peek());
                Ref.decref(main, list);
                Ref.decref(main, dict);
                Ref.decref(main, type);
                Gc.collect(main);
                assertEquals(0, Gc.collect(main), "seed " + seed);
                assertEquals(in.objectsAllocated(), in.objectsFreed(), "seed " + seed);
            }
            DestroyReport report = in.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), () -> "seed " + seed + ": leaked " + report.leakedByType());
        }
    }

    private static void work(Runtime rt, Interpreter in, long list, long dict, long type, SplittableRandom rnd,
            boolean closes, ConcurrentLinkedQueue<Throwable> errors) {
        ThreadState ts = in.newThreadState();
        long[] held = new long[16]; // our references: 0 = none
        try {
            for (int op = 0; op < 400; op++) {
                int slot = rnd.nextInt(held.length);
                switch (rnd.nextInt(10)) {
                    case 0 -> put(ts, held, slot, Ints.of(ts, rnd.nextLong()));
                    case 1 -> put(ts, held, slot, Strs.of(ts, "s" + rnd.nextInt(100)));
                    case 2 -> { // a cycle: node -> list -> node, or a self-containing list
                        long node = Instances.create(ts, type);
                        long l = Lists.create(ts);
                        Lists.append(ts, l, node);
                        Instances.set(ts, node, 0, l);
                        if (rnd.nextBoolean()) {
                            Lists.append(ts, l, l);
                        }
                        Ref.decref(ts, l);
                        put(ts, held, slot, node);
                    }
                    case 3 -> { // a tuple of what we hold, in a dict that holds itself
                        long t = Tuples.of(ts, nonZero(ts, rt, held[slot]), nonZero(ts, rt, held[(slot + 1) % 16]));
                        long d = Dicts.create(ts);
                        long k = Ints.of(ts, rnd.nextInt(4));
                        Dicts.put(ts, d, k, t);
                        Dicts.put(ts, d, Strs.intern(ts, "self"), d);
                        Ref.decref(ts, k);
                        Ref.decref(ts, t);
                        put(ts, held, slot, d);
                    }
                    case 4 -> { // share through the list
                        Lists.set(ts, list, rnd.nextInt(64), nonZero(ts, rt, held[slot]));
                    }
                    case 5 -> put(ts, held, slot, Lists.get(ts, list, rnd.nextInt(64)));
                    case 6 -> { // share through the dict
                        long k = Ints.of(ts, 1000 + rnd.nextInt(32));
                        if (rnd.nextBoolean()) {
                            Dicts.put(ts, dict, k, nonZero(ts, rt, held[slot]));
                        } else {
                            Dicts.remove(ts, dict, k);
                        }
                        Ref.decref(ts, k);
                    }
                    case 7 -> {
                        long k = Ints.of(ts, 1000 + rnd.nextInt(32));
                        long v = Dicts.get(ts, dict, k);
                        Ref.decref(ts, k);
                        if (v != 0) {
                            put(ts, held, slot, v);
                        }
                    }
                    case 8 -> { // instance slots of what we hold, from another thread than the maker maybe
                        long o = held[slot];
                        if (o != 0 && Types.typeOf(ts, o) == type) {
                            Instances.set(ts, o, 1, nonZero(ts, rt, held[(slot + 3) % 16]));
                            long got = Instances.get(ts, o, 1);
                            Ref.xdecref(ts, got);
                        }
                    }
                    default -> {
                        Ref.xdecref(ts, held[slot]);
                        held[slot] = 0;
                        ts.checkpoint();
                    }
                }
            }
            // half the workers drop what they hold and close; the others end holding it, their states open: the
            // references they held are leaked for good (counted as live), so drop them first, but leave the
            // state and its queue, delayed decrefs and owned objects to the reaper
            for (int i = 0; i < held.length; i++) {
                Ref.xdecref(ts, held[i]);
                held[i] = 0;
            }
            if (closes) {
                ts.close();
            }
        } catch (Throwable e) {
            errors.add(e);
        }
    }

    /** Stores a new reference in {@code held[slot]}, dropping the one there. */
    private static void put(ThreadState ts, long[] held, int slot, long obj) {
        Ref.xdecref(ts, held[slot]);
        held[slot] = obj;
    }

    private static long nonZero(ThreadState ts, Runtime rt, long obj) {
        return obj != 0 ? obj : rt.none();
    }
}
