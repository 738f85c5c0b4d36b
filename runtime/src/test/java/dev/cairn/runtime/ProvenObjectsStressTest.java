package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Objects the owner has proven die, round after round, by every path at random (the owner's last decref, another
 * thread's after the owner gave up the bias, the owner's or a merger's merge of its queue while it is attached or
 * detached, the collector on another thread while the owner is stopped at a checkpoint or detached), and right after
 * each round the owner's checked calls must refuse every dead address (nothing has been allocated since, so no
 * address can belong to a new object yet). The memo ({@link ProvenObjects}) must never vouch for a dead object.
 * Seeds are printed.
 */
class ProvenObjectsStressTest {

    private static final int ROUNDS = 400;
    private static final int PER_ROUND = 24;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void noDeadObjectIsTakenForLiveWhateverKilledIt() throws Exception {
        long seed = new SplittableRandom().nextLong();
        System.out.println("ProvenObjectsStressTest seed=" + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            Helper helper = new Helper(interp);
            Helper collector = new Helper(interp);
            ThreadState owner = interp.newThreadState();
            try {
                for (int round = 0; round < ROUNDS; round++) {
                    List<Long> dead = new ArrayList<>();
                    for (int i = 0; i < PER_ROUND; i++) {
                        dead.add(killOne(owner, helper, rnd));
                    }
                    // cycles, left for the collector on another thread
                    int cycles = rnd.nextInt(3);
                    for (int c = 0; c < cycles; c++) {
                        long list = Lists.create(owner);
                        Lists.append(owner, list, list);
                        Ref.incref(owner, list);
                        Ref.decref(owner, list);
                        Ref.decref(owner, list);
                        dead.add(list);
                    }
                    if (cycles > 0) {
                        collectWhileOwnerWaits(owner, collector, rnd.nextBoolean());
                    }
                    owner.checkpoint(); // merges whatever is still queued to the owner
                    for (long obj : dead) {
                        long stale = obj;
                        assertThrows(IllegalArgumentException.class, () -> Ref.incref(owner, stale),
                                () -> "seed " + seed + ": a dead object's address was taken for a live one");
                    }
                }
            } finally {
                owner.close();
                helper.stop();
                collector.stop();
            }
            DestroyReport report = interp.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), () -> "seed " + seed + ": leaked " + report.leakedByType());
        }
    }

    /** Makes an object, proves it, and has it die by one of the paths at random; returns its address. */
    private static long killOne(ThreadState owner, Helper helper, SplittableRandom rnd) throws Exception {
        long obj = Ints.of(owner, (1L << 40) + rnd.nextInt(1 << 20));
        Ref.incref(owner, obj); // two references, both the owner's; proven
        switch (rnd.nextInt(4)) {
            case 0 -> { // the owner drops both
                Ref.decref(owner, obj);
                Ref.decref(owner, obj);
            }
            case 1 -> { // another thread takes a reference; the owner gives up the bias; the other frees it
                helper.run(ts -> Ref.incref(ts, obj));
                Ref.decref(owner, obj);
                Ref.decref(owner, obj);
                helper.run(ts -> Ref.decref(ts, obj));
            }
            case 2 -> { // one reference handed over and dropped there: queued; the owner merges, then drops its own
                helper.run(ts -> Ref.decref(ts, obj));
                owner.checkpoint();
                if (rnd.nextBoolean()) {
                    Ref.decref(owner, obj);
                } else {
                    helper.run(ts -> Ref.decref(ts, obj)); // the merged object's last reference, freed there
                }
            }
            default -> { // both handed over while the owner is detached: merged on its behalf, freed there
                owner.detach();
                helper.run(ts -> {
                    Ref.decref(ts, obj);
                    Ref.decref(ts, obj);
                });
                owner.attach();
            }
        }
        return obj;
    }

    /** The collector runs on another thread while the owner is detached, or attached and stopped at checkpoints. */
    private static void collectWhileOwnerWaits(ThreadState owner, Helper collector, boolean detached)
            throws Exception {
        if (detached) {
            owner.detach();
            collector.run(Gc::collect);
            owner.attach();
            return;
        }
        AtomicBoolean done = new AtomicBoolean();
        CompletableFuture<Void> collection = collector.submit(ts -> {
            Gc.collect(ts);
            done.set(true);
        });
        while (!done.get()) {
            owner.checkpoint(); // stops here for the collection
        }
        collection.get();
    }

    /** A thread with a thread state of its own that runs what it is given, one thing at a time. */
    private static final class Helper {
        private final BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
        private final Thread thread;
        private volatile ThreadState ts;

        Helper(Interpreter interp) {
            thread = Thread.ofPlatform().start(() -> {
                try (ThreadState own = interp.newThreadState()) {
                    ts = own;
                    while (true) {
                        own.detach(); // waiting is a blocking call: a stop of the world must not wait for it
                        Runnable next = work.take();
                        own.attach();
                        if (next == STOP) {
                            return;
                        }
                        next.run();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        private static final Runnable STOP = () -> { };

        CompletableFuture<Void> submit(Consumer<ThreadState> body) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            work.add(() -> {
                try {
                    body.accept(ts);
                    done.complete(null);
                } catch (Throwable e) {
                    done.completeExceptionally(e);
                }
            });
            return done;
        }

        void run(Consumer<ThreadState> body) throws Exception {
            submit(body).get(30, TimeUnit.SECONDS);
        }

        void stop() throws InterruptedException {
            work.add(STOP);
            thread.join();
        }
    }
}
