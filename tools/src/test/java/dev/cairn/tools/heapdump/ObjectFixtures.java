package dev.cairn.tools.heapdump;

import dev.cairn.runtime.Dicts;
import dev.cairn.runtime.Instances;
import dev.cairn.runtime.Interpreter;
import dev.cairn.runtime.InterpreterConfig;
import dev.cairn.runtime.Ints;
import dev.cairn.runtime.Lists;
import dev.cairn.runtime.Ref;
import dev.cairn.runtime.Runtime;
import dev.cairn.runtime.Strs;
import dev.cairn.runtime.ThreadState;
import dev.cairn.runtime.Types;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runtime dumps for the tool's tests: objects of several types made on two threads of an isolated interpreter, with
 * counts that can be worked out by hand ({@link #EXPECTED}), dumped while one thread runs attached (it must be
 * stopped) and the other is detached.
 */
public final class ObjectFixtures {

    private ObjectFixtures() {
    }

    /**
     * Objects and reference counts per type name in the {@link #twoThreads} dump:
     * <ul>
     *   <li>int: thread A's 50 (in A's list: 2 each; 10 of them also increfed by B: 3) and the 15 values of B's
     *       dicts (1 each): 40 * 2 + 10 * 3 + 15 = 125;</li>
     *   <li>str: A's 20, B's 30, B's 15 dict keys, and the heap type's name, 1 each;</li>
     *   <li>list: A's one; dict: B's five; Point: 10 instances by A, 7 by B;</li>
     *   <li>type: the heap type Point, held by A's reference and by each of its 17 instances, all counted in the
     *       threads' per-type arrays (none merged into the type).</li>
     * </ul>
     */
    public static final Map<String, long[]> EXPECTED = Map.of("int", new long[] {65, 125}, "str",
            new long[] {66, 66}, "list", new long[] {1, 1}, "dict", new long[] {5, 5}, "Point", new long[] {17, 17},
            "type", new long[] {1, 18});

    /** What {@link #twoThreads} made, to hold the dump against. */
    public record Made(long interpreterId, long ownerA, long ownerB, Set<Long> intsOfA, Set<Long> increfedByB,
            long pointType, long leakedObjects) {
    }

    /** Makes the objects of {@link #EXPECTED}, dumps the interpreter to {@code path}, then frees everything. */
    public static Made twoThreads(Path path) throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            CountDownLatch madeA = new CountDownLatch(1);
            CountDownLatch madeB = new CountDownLatch(1);
            CountDownLatch dumped = new CountDownLatch(1);
            long[] ints = new long[50];
            long[] point = new long[1];
            long[] owners = new long[2];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread a = Thread.ofPlatform().name("objects-A").start(guard(failure, madeA, madeB, () -> {
                try (ThreadState ts = interp.newThreadState()) {
                    owners[0] = ts.id();
                    List<Long> mine = new ArrayList<>();
                    long list = Lists.create(ts);
                    for (int i = 0; i < ints.length; i++) {
                        ints[i] = Ints.of(ts, 1000 + i);
                        Lists.append(ts, list, ints[i]);
                        mine.add(ints[i]);
                    }
                    for (int i = 0; i < 20; i++) {
                        mine.add(Strs.of(ts, "a" + i));
                    }
                    point[0] = Types.newHeapType(ts, "Point", 2);
                    for (int i = 0; i < 10; i++) {
                        mine.add(Instances.create(ts, point[0]));
                    }
                    madeA.countDown();
                    // attached and running while the dump is taken: the dump's pause must stop it here
                    while (dumped.getCount() > 0) {
                        ts.checkpoint();
                        Thread.onSpinWait();
                    }
                    mine.forEach(obj -> Ref.decref(ts, obj));
                    Ref.decref(ts, list);
                    Ref.decref(ts, point[0]);
                }
            }));
            Thread b = Thread.ofPlatform().name("objects-B").start(guard(failure, madeA, madeB, () -> {
                await(madeA);
                try (ThreadState ts = interp.newThreadState()) {
                    owners[1] = ts.id();
                    List<Long> mine = new ArrayList<>();
                    for (int i = 0; i < 30; i++) {
                        mine.add(Strs.of(ts, "b" + i));
                    }
                    for (int d = 0; d < 5; d++) {
                        long dict = Dicts.create(ts);
                        for (int k = 0; k < 3; k++) {
                            long key = Strs.of(ts, "k" + k);
                            long value = Ints.of(ts, 2000 + 3 * d + k);
                            Dicts.put(ts, dict, key, value);
                            Ref.decref(ts, key);
                            Ref.decref(ts, value);
                        }
                        mine.add(dict);
                    }
                    for (int i = 0; i < 7; i++) {
                        mine.add(Instances.create(ts, point[0]));
                    }
                    for (int i = 0; i < 10; i++) {
                        Ref.incref(ts, ints[i]); // not the owner: counted in the shared word
                    }
                    madeB.countDown();
                    ts.detach();
                    await(dumped);
                    ts.attach();
                    for (int i = 0; i < 10; i++) {
                        Ref.decref(ts, ints[i]);
                    }
                    mine.forEach(obj -> Ref.decref(ts, obj));
                }
            }));
            try {
                if (!madeB.await(60, TimeUnit.SECONDS) || failure.get() != null) {
                    throw new AssertionError("the threads did not make their objects", failure.get());
                }
                interp.dumpHeap(path);
            } finally {
                dumped.countDown();
                a.join();
                b.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("a thread failed", failure.get());
            }
            Set<Long> intsOfA = new HashSet<>();
            Set<Long> increfed = new HashSet<>();
            for (int i = 0; i < ints.length; i++) {
                intsOfA.add(ints[i]);
                if (i < 10) {
                    increfed.add(ints[i]);
                }
            }
            long id = interp.id();
            long leaked = interp.release().orElseThrow().leakedObjects();
            return new Made(id, owners[0], owners[1], intsOfA, increfed, point[0], leaked);
        }
    }

    /**
     * A dump of an interpreter that shares the main allocator: the runtime's immortals, the main interpreter's
     * objects (none) and three strs of the sharing interpreter. Returns that interpreter's id.
     */
    public static long sharedAllocator(Path path) throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter shared = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            long id = shared.id();
            Thread t = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = shared.newThreadState()) {
                    long[] strs = {Strs.of(ts, "x"), Strs.of(ts, "y"), Strs.of(ts, "z")};
                    shared.dumpHeap(path); // from an attached thread of the dumped interpreter: it is not stopped
                    for (long s : strs) {
                        Ref.decref(ts, s);
                    }
                }
            });
            t.join();
            shared.release();
            return id;
        }
    }

    private interface Body {
        void run() throws Exception;
    }

    /** Records a thread's failure and opens the latches the others wait on, so a failing fixture ends. */
    private static Runnable guard(AtomicReference<Throwable> failure, CountDownLatch madeA, CountDownLatch madeB,
            Body body) {
        return () -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                madeA.countDown();
                madeB.countDown();
            }
        };
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(60, TimeUnit.SECONDS)) {
            throw new AssertionError("timed out");
        }
    }
}
