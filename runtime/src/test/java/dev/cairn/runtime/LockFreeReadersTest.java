package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.AllocatorConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Readers of a list and a dict take no lock while writers append, replace and pop: they never see a freed or torn
 * item. Freed blocks are filled with 0xAB, so a read of a freed item array or a freed item shows up as a
 * non-object (refused by the checks) or a wrong value. Every value written is a str of one repeated letter.
 */
class LockFreeReadersTest {

    @Test
    void listAndDictReadersNeverSeeFreedOrTornItems() throws Exception {
        long seed = System.nanoTime();
        System.out.println("LockFreeReadersTest seed=" + seed);
        AllocatorConfig filled = AllocatorConfig.builder().freeFill(0xAB).purgeDelay(java.time.Duration.ZERO).build();
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(new InterpreterConfig(true, filled));
            long list;
            long dict;
            long[] keys = new long[64];
            try (ThreadState ts = interp.newThreadState()) {
                list = Lists.create(ts);
                dict = Dicts.create(ts);
                SplittableRandom init = new SplittableRandom(seed);
                for (int i = 0; i < 16; i++) {
                    long v = newValue(ts, init);
                    Lists.append(ts, list, v);
                    Ref.decref(ts, v);
                }
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = Strs.of(ts, "key-" + i);
                }
                runReadersAndWriters(interp, list, dict, keys, seed);
                assertTrue(Lists.size(ts, list) >= 16);
                Ref.decref(ts, list);
                Ref.decref(ts, dict);
                for (long k : keys) {
                    Ref.decref(ts, k);
                }
            }
            DestroyReport report = interp.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), "leaked: " + report.leakedByType());
        }
    }

    private static void runReadersAndWriters(Interpreter interp, long list, long dict, long[] keys, long seed)
            throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        AtomicLong writes = new AtomicLong();
        List<Throwable> errors = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            boolean writer = t < 2;
            long threadSeed = seed + t;
            threads.add(Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    SplittableRandom rnd = new SplittableRandom(threadSeed);
                    long k = 0;
                    while (!stop.get()) {
                        if (writer) {
                            write(ts, rnd, list, dict, keys);
                            writes.incrementAndGet();
                            Thread.yield(); // readers yield inside each read (Debug.YIELD_IN_READS): keep pace
                        } else {
                            read(ts, rnd, list, dict, keys);
                            reads.incrementAndGet();
                        }
                        if ((++k & 63) == 0) {
                            ts.checkpoint();
                        }
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                    stop.set(true);
                }
            }));
        }
        Thread.sleep(1500);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError("seed " + seed + ": " + errors.size() + " errors");
            errors.forEach(e::addSuppressed);
            throw e;
        }
        System.out.println("LockFreeReadersTest reads=" + reads + " writes=" + writes);
        assertTrue(reads.get() > 1000 && writes.get() > 1000, "both sides ran: " + reads + " / " + writes);
    }

    /** A str of one repeated letter, 1 to 300 bytes: many size classes, so a freed block is rarely reused at once. */
    private static long newValue(ThreadState ts, SplittableRandom rnd) {
        return Strs.of(ts, String.valueOf((char) ('a' + rnd.nextInt(26))).repeat(rnd.nextInt(1, 301)));
    }

    private static void write(ThreadState ts, SplittableRandom rnd, long list, long dict, long[] keys) {
        long v = newValue(ts, rnd);
        switch (rnd.nextInt(5)) {
            case 0 -> Lists.append(ts, list, v);
            case 1 -> Lists.set(ts, list, rnd.nextLong(16), v);
            case 2 -> {
                if (Lists.size(ts, list) > 200) {
                    Ref.decref(ts, Lists.pop(ts, list));
                }
                Lists.append(ts, list, v);
            }
            case 3 -> Dicts.put(ts, dict, keys[rnd.nextInt(keys.length)], v);
            default -> Dicts.remove(ts, dict, keys[rnd.nextInt(keys.length)]);
        }
        Ref.decref(ts, v);
    }

    private static void read(ThreadState ts, SplittableRandom rnd, long list, long dict, long[] keys) {
        long size = Lists.size(ts, list);
        long item;
        if (rnd.nextInt(4) != 0) {
            try {
                item = Lists.get(ts, list, rnd.nextInt(4) == 0 ? rnd.nextLong(size) : rnd.nextLong(16));
            } catch (IndexOutOfBoundsException popped) {
                return;
            }
        } else {
            item = Dicts.get(ts, dict, keys[rnd.nextInt(keys.length)]);
            if (item == 0) {
                return;
            }
        }
        String value = Strs.value(ts, item);
        if (value.isEmpty() || value.chars().anyMatch(c -> c != value.charAt(0)) || value.charAt(0) < 'a'
                || value.charAt(0) > 'z') {
            throw new AssertionError("torn or freed value '" + value + "' at 0x" + Long.toHexString(item));
        }
        Ref.decref(ts, item);
    }
}
