package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a workload's threads: each on a fresh platform thread with its own view of the peer and its own tally (added
 * to the workload's total when the thread's part ends), timed together; the first failure is rethrown once all are
 * done.
 */
final class Workers {
    private Workers() {
    }

    /** One thread's part of a workload. */
    @FunctionalInterface
    interface Body {
        /** Runs part {@code index} on this thread's {@code view} of the peer, counting into this thread's tally. */
        void run(int index, PeerThread view, Tally tally);
    }

    /**
     * Runs {@code body} for index in {@code [0, count)}, each on its own thread; returns when all have ended, with
     * the nanoseconds from before the first was created until then.
     */
    static long runAll(String name, int count, Peer peer, Tally total, Body body) throws InterruptedException {
        Failure failure = new Failure();
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int index = i;
            threads.add(Thread.ofPlatform().name(name + "-" + i).unstarted(() -> {
                try {
                    runOnPeer(index, peer, total, body);
                } catch (Throwable t) {
                    failure.record(t);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join();
        }
        long elapsed = System.nanoTime() - start;
        failure.rethrow();
        return elapsed;
    }

    /**
     * Runs {@code count} chains of {@code generations} threads each: a thread runs {@code body} for its chain's
     * index, then starts its chain's next generation and ends (thread churn, the next generation freeing what the
     * last one allocated). Returns when every chain's last generation has run, with the nanoseconds since the first
     * start. One chain's generations run one after another, so each sees the previous one's writes (thread start
     * orders them). {@code virtual}: the generations are virtual threads instead of platform threads.
     */
    static long runChains(String name, int count, int generations, boolean virtual, Peer peer, Tally total,
            Body body) throws InterruptedException {
        Chains chains = new Chains(name, virtual, peer, total, body, new CountDownLatch(count), new Failure());
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            chains.start(i, generations);
        }
        chains.done().await();
        long elapsed = System.nanoTime() - start;
        chains.failure().rethrow();
        return elapsed;
    }

    private static void runOnPeer(int index, Peer peer, Tally total, Body body) {
        PeerThread view = peer.forThread();
        Tally tally = new Tally();
        body.run(index, view, tally);
        view.detach();
        total.add(tally);
    }

    /** What every generation of {@link #runChains} shares; a chain ends by counting {@code done} down. */
    private record Chains(String name, boolean virtual, Peer peer, Tally total, Body body, CountDownLatch done,
            Failure failure) {

        void start(int index, int remaining) {
            // A builder per start: builders are not thread safe, and every generation starts the next one.
            Thread.Builder builder = virtual ? Thread.ofVirtual() : Thread.ofPlatform();
            builder.name(name + "-" + remaining).start(() -> {
                try {
                    runOnPeer(index, peer, total, body);
                    if (remaining > 1) {
                        start(index, remaining - 1);
                        return;
                    }
                } catch (Throwable t) {
                    failure.record(t);
                }
                done.countDown();
            });
        }
    }

    /** The first failure of any thread, rethrown once they are done. */
    private static final class Failure {
        private final AtomicReference<Throwable> first = new AtomicReference<>();

        void record(Throwable failure) {
            first.compareAndSet(null, failure);
        }

        /** Rethrows the first failure as an unchecked exception, wrapping a checked one; nothing when none. */
        void rethrow() {
            Throwable failure = first.get();
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new IllegalStateException(failure);
            }
        }
    }
}
