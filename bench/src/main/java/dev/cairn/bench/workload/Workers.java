package dev.cairn.bench.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/** Runs worker bodies on fresh platform threads, waits for them, and rethrows the first failure. */
final class Workers {
    private Workers() {
    }

    /** Runs {@code body.accept(i)} for i in {@code [0, count)}, each on its own thread; returns when all are done. */
    static void runAll(String name, int count, IntConsumer body) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int index = i;
            threads.add(Thread.ofPlatform().name(name + "-" + i).unstarted(() -> {
                try {
                    body.accept(index);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join();
        }
        rethrow(failure.get());
    }

    /** Rethrows {@code failure} as an unchecked exception, wrapping checked ones; nothing when null. */
    static void rethrow(Throwable failure) {
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
