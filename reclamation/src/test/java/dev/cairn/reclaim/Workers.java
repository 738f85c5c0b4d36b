package dev.cairn.reclaim;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** Starts named platform threads, remembers the first failure, and joins them with a deadline. */
final class Workers {

    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    final AtomicBoolean stop = new AtomicBoolean();

    void start(String name, ThrowingRunnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                stop.set(true);
            }
        }, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    boolean stopped() {
        return stop.get();
    }

    /** Signals stop, joins every thread (at most {@code millis} in all), and rethrows the first failure. */
    void stopAndJoin(long millis) throws Exception {
        stop.set(true);
        long deadline = System.currentTimeMillis() + millis;
        for (Thread t : threads) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " did not stop in time");
            }
        }
        Throwable f = failure.get();
        if (f instanceof Exception e) {
            throw e;
        }
        if (f instanceof Error e) {
            throw e;
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
