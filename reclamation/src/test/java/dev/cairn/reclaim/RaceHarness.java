package dev.cairn.reclaim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A small harness in the spirit of jcstress: many short trials, each racing a few actors over fresh state, each
 * ending in an outcome that an arbiter names; the outcomes are tabulated so a test can require that forbidden
 * ones never happen and that the interesting ones do.
 *
 * <p>Actor 0 runs on the calling thread, every other actor on its own long-lived thread (so each can hold a
 * registered {@link QsbrThread}); factories run on the actor's thread. Every trial starts with a spin barrier that
 * all actors arrive at, then a few random spins, so they start within about a microsecond of each other in
 * varying order; no extra thread spins, which
 * matters on small machines (two actors on two CPUs really run at once). Actors are
 * {@linkplain Actor#close() closed} on their own threads.
 */
final class RaceHarness {

    /** One side of the race; {@code act} runs once per trial on the actor's own thread. */
    interface Actor<S> {
        void act(S state);

        default void close() {
        }
    }

    /** Outcome counts of a run, by outcome name. */
    record Outcomes(String name, Map<String, Long> counts) {
        long count(String outcome) {
            return counts.getOrDefault(outcome, 0L);
        }

        long countMatching(String prefix) {
            return counts.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                    .mapToLong(Map.Entry::getValue).sum();
        }

        String table() {
            StringBuilder b = new StringBuilder(name).append('\n');
            counts.forEach((k, v) -> b.append(String.format("  %12d  %s%n", v, k)));
            return b.toString();
        }
    }

    private static final int JITTER = 16;

    private RaceHarness() {
    }

    /**
     * Runs up to {@code trials} trials, stopping early once {@code budget} has elapsed (so a loaded machine makes
     * the run shorter, not the build longer); the counts say how many trials ran.
     */
    static <S> Outcomes run(String name, int trials, Duration budget, Supplier<S> newState,
            List<Supplier<Actor<S>>> actors, Function<S, String> arbiter) throws InterruptedException {
        long deadline = System.nanoTime() + budget.toNanos();
        int n = actors.size();
        AtomicReference<S> current = new AtomicReference<>();
        AtomicInteger published = new AtomicInteger(-1); // the trial whose state is in current
        AtomicInteger arrived = new AtomicInteger();      // reaches n * (trial + 1) when all are at trial's barrier
        AtomicInteger finished = new AtomicInteger();     // reaches n * (trial + 1) when all finished trial
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int k = 1; k < n; k++) {
            Supplier<Actor<S>> factory = actors.get(k);
            Thread t = new Thread(() -> {
                Actor<S> actor = factory.get();
                try {
                    for (int trial = 0; ; trial++) {
                        int spins = 0;
                        while (published.get() < trial && !stop.get()) {
                            pause(spins++);
                        }
                        if (published.get() < trial) {
                            break;
                        }
                        arriveAndRun(actor, current.get(), arrived, n * (trial + 1), failure);
                        finished.incrementAndGet();
                    }
                } finally {
                    actor.close();
                }
            }, name + "-actor-" + k);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        Actor<S> first = actors.get(0).get();
        Map<String, Long> counts = new TreeMap<>();
        try {
            for (int trial = 0; trial < trials && failure.get() == null
                    && (trial % 64 != 0 || System.nanoTime() - deadline < 0); trial++) {
                S state = newState.get();
                current.set(state);
                published.set(trial); // volatile: the others read current only after seeing this
                arriveAndRun(first, state, arrived, n * (trial + 1), failure);
                finished.incrementAndGet();
                spinUntil(finished, n * (trial + 1));
                counts.merge(arbiter.apply(state), 1L, Long::sum);
            }
        } finally {
            stop.set(true);
            first.close();
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
        if (failure.get() != null) {
            throw new AssertionError(name + ": an actor failed", failure.get());
        }
        return new Outcomes(name, counts);
    }

    private static <S> void arriveAndRun(Actor<S> actor, S state, AtomicInteger arrived, int all,
            AtomicReference<Throwable> failure) {
        arrived.incrementAndGet();
        spinUntil(arrived, all);
        // The last to arrive would always start first; a little random jitter lets every order happen.
        for (int i = ThreadLocalRandom.current().nextInt(JITTER); i > 0; i--) {
            Thread.onSpinWait();
        }
        try {
            actor.act(state);
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    private static void spinUntil(AtomicInteger counter, int target) {
        for (int spins = 0; counter.get() < target; spins++) {
            pause(spins);
        }
    }

    private static void pause(int spins) {
        if (spins < 200) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
