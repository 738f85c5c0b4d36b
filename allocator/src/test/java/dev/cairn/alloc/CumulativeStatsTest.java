package dev.cairn.alloc;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The cumulative counters of {@code stats()} never go down while heaps end: ended threads' heaps are reaped from any
 * thread's malloc slow path (at most once a millisecond), so a monitoring thread's {@code stats()} keeps racing a
 * reap that moves a heap's counts from the live heaps to the ended totals.
 */
class CumulativeStatsTest {

    @Test
    void slowPathCallsAndRemoteFreesNeverGoDownWhileThreadsAreReaped() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(false).build())) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread monitor = Thread.ofPlatform().start(() -> {
                long lastSlow = 0;
                long lastRemote = 0;
                try {
                    while (!stop.get()) {
                        AllocatorStats stats = allocator.stats();
                        if (stats.slowPathCalls() < lastSlow) {
                            throw new AssertionError("slowPathCalls went down: " + lastSlow + " -> "
                                    + stats.slowPathCalls());
                        }
                        if (stats.remoteFrees() < lastRemote) {
                            throw new AssertionError("remoteFrees went down: " + lastRemote + " -> "
                                    + stats.remoteFrees());
                        }
                        lastSlow = stats.slowPathCalls();
                        lastRemote = stats.remoteFrees();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            // The main thread's slow paths reap the short-lived threads (each with slow paths and collected
            // remote frees of its own) while the monitor reads stats.
            for (int round = 0; round < 200 && failure.get() == null; round++) {
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        long[] blocks = new long[64];
                        for (int i = 0; i < blocks.length; i++) {
                            blocks[i] = allocator.malloc(70_000 + i * 4096L); // large classes: slow paths
                        }
                        long[] remote = new long[1];
                        Thread freer = Thread.ofPlatform().start(() -> {
                            for (int i = 0; i < blocks.length; i += 2) {
                                allocator.free(blocks[i]);
                            }
                        });
                        try {
                            freer.join();
                        } catch (InterruptedException e) {
                            throw new RuntimeException(e);
                        }
                        for (int i = 0; i < 64; i++) { // collects the remote frees
                            remote[0] += allocator.malloc(70_000 + i * 4096L) == 0 ? 1 : 0;
                        }
                    }));
                }
                for (Thread t : threads) {
                    t.join();
                }
                for (int i = 0; i < 50; i++) {
                    allocator.free(allocator.malloc(600_000)); // huge: a slow path each, reaping the threads
                }
            }
            stop.set(true);
            monitor.join();
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
        }
    }
}
