package dev.cairn.bench.reclaim;

import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.reclaim.Qsbr;
import dev.cairn.reclaim.QsbrConfig;
import dev.cairn.reclaim.QsbrThread;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What quiescent-state-based reclamation costs the threads that use it ({@link Qsbr}, {@link QsbrThread}).
 *
 * <ul>
 *   <li>{@code quiescent}: one online thread reports a quiescent point with nothing due: an acquire load of the
 *       write sequence, a release store to its own padded slot, one compare. Target: at most 2 ns.
 *       {@code quiescentFourThreads} runs the same on four threads at once, each with its own slot; the time
 *       should not grow if the slots and the shared sequence words are really on separate cache lines.</li>
 *   <li>{@code advanceAndPoll}: a writer (registered, offline) advances the write sequence and polls the new goal,
 *       which always scans (the cached read sequence is behind by construction) and succeeds, since the other
 *       {@code otherThreads} registered threads are offline: one uncontended fetch-and-add, one full fence, one
 *       pass over the slot table.</li>
 *   <li>{@code deferAmortized} against {@code freeDirect}: the per-item cost of freeing {@value #BATCH} blocks
 *       through {@code defer(address)} and one quiescent point (which runs them once due: the thread is alone, so
 *       they are due after the next real advance, one per {@code advanceInterval} deferrals), against calling the
 *       same free function directly. The free function bumps a counter in a method the JIT may not inline, so
 *       neither loop can be folded away; the difference is what deferral adds per block.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class QsbrBenchmark {

    static final int BATCH = 256;

    /** A domain with one registered, online thread: the benchmark thread (set up on that thread). */
    @State(Scope.Thread)
    public static class Reader {
        Qsbr domain;
        QsbrThread handle;

        @Setup
        public void setUp() {
            domain = Qsbr.create();
            handle = domain.register();
        }

        @TearDown
        public void tearDown() {
            handle.unregister();
            domain.close();
        }
    }

    /** Four threads, four handles, one domain shared by all of them (dropped with the fork). */
    @State(Scope.Benchmark)
    public static class SharedDomain {
        final Qsbr domain = Qsbr.create();
    }

    /** One benchmark thread's handle in {@link SharedDomain}. */
    @State(Scope.Thread)
    public static class SharedReader {
        QsbrThread handle;

        @Setup
        public void setUp(SharedDomain shared) {
            handle = shared.domain.register();
        }

        @TearDown
        public void tearDown() {
            handle.unregister();
        }
    }

    /** A writer and {@code otherThreads} parked threads, all registered and offline. */
    @State(Scope.Thread)
    public static class Writer {
        @Param({"0", "15"})
        int otherThreads;

        Qsbr domain;
        QsbrThread handle;
        private final List<Thread> others = new ArrayList<>();
        private final CountDownLatch release = new CountDownLatch(1);

        @Setup
        public void setUp() throws InterruptedException {
            domain = Qsbr.create();
            handle = domain.register();
            handle.detach();
            CountDownLatch registered = new CountDownLatch(otherThreads);
            for (int i = 0; i < otherThreads; i++) {
                Thread t = new Thread(() -> {
                    QsbrThread h = domain.register();
                    h.detach(); // about to park: offline, as a blocked thread must be
                    registered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    h.unregister();
                });
                t.setDaemon(true);
                t.start();
                others.add(t);
            }
            registered.await();
        }

        @TearDown
        public void tearDown() throws InterruptedException {
            release.countDown();
            for (Thread t : others) {
                t.join();
            }
            handle.unregister();
            domain.close();
        }
    }

    /** The bench thread registered in a domain whose free function bumps {@link #freed}. */
    @State(Scope.Thread)
    public static class Freeing {
        long freed;
        final long[] addresses = new long[BATCH];
        Qsbr domain;
        QsbrThread handle;

        @Setup
        public void setUp() {
            for (int i = 0; i < BATCH; i++) {
                addresses[i] = 0x10_0000L + 64L * i;
            }
            domain = Qsbr.create(QsbrConfig.builder().free(this::free).sizeOf(address -> 64).build());
            handle = domain.register();
        }

        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        void free(long address) {
            freed++;
        }

        @TearDown
        public void tearDown() {
            handle.unregister();
            domain.close();
        }
    }

    @Benchmark
    public void quiescent(Reader r) {
        r.handle.quiescent();
    }

    @Benchmark
    @Threads(4)
    public void quiescentFourThreads(SharedReader r) {
        r.handle.quiescent();
    }

    @Benchmark
    public boolean advanceAndPoll(Writer w) {
        long goal = w.domain.advance();
        return w.domain.poll(goal);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void deferAmortized(Freeing f) {
        QsbrThread h = f.handle;
        long[] addresses = f.addresses;
        for (int i = 0; i < BATCH; i++) {
            h.defer(addresses[i]);
        }
        h.quiescent();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void freeDirect(Freeing f) {
        long[] addresses = f.addresses;
        for (int i = 0; i < BATCH; i++) {
            f.free(addresses[i]);
        }
    }
}
