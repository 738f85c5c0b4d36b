package dev.cairn.bench.reclaim;

import dev.cairn.reclaim.Qsbr;
import dev.cairn.reclaim.QsbrConfig;
import dev.cairn.reclaim.QsbrThread;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * How long a delayed free waits: the time from {@code defer} to the real free, with reader threads that report a
 * quiescent point every microsecond (issue 5 asks for the median with two such readers).
 *
 * <p>It drives a {@link Qsbr} domain configured exactly as an {@code Allocator}'s delayed frees are (the defaults,
 * the writer registered offline, as {@code freeDelayed} registers a writer-only thread), so the figure is the
 * allocator's; the free function records the latency instead of freeing, which keeps the allocator's own costs out
 * of the number. The writer defers at a fixed pace ({@code gapNanos} between frees, 0 = back to back).
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar
 * dev.cairn.bench.reclaim.DelayedFreeLatency [frees] [readers] [gapNanos...]}
 */
public final class DelayedFreeLatency {

    private DelayedFreeLatency() {
    }

    public static void main(String[] args) throws Exception {
        int frees = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        int readers = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        long[] gaps = args.length > 2
                ? Arrays.stream(args, 2, args.length).mapToLong(Long::parseLong).toArray()
                : new long[] {0, 1_000, 10_000};
        System.out.printf("delayed-free latency: %d frees, %d readers quiescing every 1 us, %d cpus%n", frees,
                readers, Runtime.getRuntime().availableProcessors());
        for (long gap : gaps) {
            run(frees / (gap >= 10_000 ? 20 : gap >= 1_000 ? 4 : 1), readers, gap); // keep slow paces short
        }
    }

    private static void run(int frees, int readers, long gapNanos) throws Exception {
        long[] deferredAt = new long[frees];
        long[] latency = new long[frees];
        int[] done = {0};
        Qsbr domain = Qsbr.create(QsbrConfig.builder()
                .free(address -> latency[done[0]++] = System.nanoTime() - deferredAt[(int) (address >>> 4) - 1])
                .sizeOf(address -> 64)
                .build());
        Thread[] readerThreads = new Thread[readers];
        CountDownLatch online = new CountDownLatch(readers);
        boolean[] stop = {false};
        for (int r = 0; r < readers; r++) {
            readerThreads[r] = Thread.ofPlatform().start(() -> {
                QsbrThread me = domain.register();
                online.countDown();
                while (!((boolean[]) stop)[0]) {
                    long until = System.nanoTime() + 1_000;
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    me.quiescent();
                    VarHandleFence.acquire();
                }
                me.unregister();
            });
        }
        online.await();
        QsbrThread writer = domain.register();
        writer.detach(); // a writer-only thread, as freeDelayed registers it
        long next = System.nanoTime();
        for (int i = 0; i < frees; i++) {
            if (gapNanos > 0) {
                next += gapNanos;
                while (System.nanoTime() < next) {
                    Thread.onSpinWait();
                }
            }
            deferredAt[i] = System.nanoTime();
            writer.defer((i + 1L) << 4);
        }
        int measured = done[0]; // what ran while the stream flowed; the tail drains below and is not counted
        writer.unregister();
        synchronized (stop) {
            stop[0] = true;
        }
        for (Thread t : readerThreads) {
            t.join();
        }
        domain.close();
        long[] sorted = Arrays.copyOf(latency, measured);
        Arrays.sort(sorted);
        System.out.printf("  gap %6d ns: %d of %d frees ran during the stream; latency p50 %.1f us, p90 %.1f us,"
                        + " p99 %.1f us, max %.1f us%n", gapNanos, measured, frees, pct(sorted, 0.50) / 1e3,
                pct(sorted, 0.90) / 1e3, pct(sorted, 0.99) / 1e3,
                sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e3);
    }

    private static double pct(long[] sorted, double p) {
        return sorted.length == 0 ? Double.NaN : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)];
    }

    /** Keeps the reader loop from being hoisted: the stop flag is read after a fence each round. */
    private static final class VarHandleFence {
        static void acquire() {
            java.lang.invoke.VarHandle.acquireFence();
        }
    }
}
