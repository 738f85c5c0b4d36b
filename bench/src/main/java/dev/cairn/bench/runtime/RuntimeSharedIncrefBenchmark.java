package dev.cairn.bench.runtime;

import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.runtime.Interpreter;
import dev.cairn.runtime.Ints;
import dev.cairn.runtime.Ref;
import dev.cairn.runtime.Runtime;
import dev.cairn.runtime.ThreadState;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Two threads incref + decref one shared object that neither owns (both on the atomic shared count, the contended
 * case), and, for contrast, each its own object ({@code ownObject}, biased, no sharing). Nanoseconds per pair per
 * thread. {@code checked}: the runtime's allocator mode, as in {@link RuntimeRefcountBenchmark} (checked, the
 * default, proves each argument a live object first).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
@Threads(2)
public class RuntimeSharedIncrefBenchmark {

    @State(Scope.Benchmark)
    public static class Shared {
        Runtime runtime;
        /** Thread states open; the last to close also closes the runtime (JMH tears Benchmark state down first). */
        final java.util.concurrent.atomic.AtomicInteger users = new java.util.concurrent.atomic.AtomicInteger();
        Interpreter interp;
        long object;

        @Param({"false", "true"})
        public boolean checked;

        @Setup
        public void setUp() throws InterruptedException {
            runtime = Runtime.create(AllocatorConfig.builder().checked(checked).build());
            interp = runtime.mainInterpreter();
            long[] made = new long[1];
            Thread maker = Thread.ofPlatform().start(() -> {
                try (ThreadState other = interp.newThreadState()) {
                    made[0] = Ints.of(other, 1_000_000);
                }
            });
            maker.join();
            object = made[0];
        }

    }

    @State(Scope.Thread)
    public static class PerThread {
        ThreadState ts;
        Shared shared;
        long own;

        @Setup
        public void setUp(Shared shared) {
            this.shared = shared;
            shared.users.incrementAndGet();
            ts = shared.interp.newThreadState();
            own = Ints.of(ts, 3_000_000);
        }

        @TearDown
        public void tearDown() {
            Ref.decref(ts, own);
            ts.close();
            if (shared.users.decrementAndGet() == 0) {
                shared.runtime.close();
            }
        }
    }

    @Benchmark
    public void sharedObject(Shared shared, PerThread me) {
        Ref.incref(me.ts, shared.object);
        Ref.decref(me.ts, shared.object);
    }

    @Benchmark
    public void ownObject(PerThread me) {
        Ref.incref(me.ts, me.own);
        Ref.decref(me.ts, me.own);
    }
}
