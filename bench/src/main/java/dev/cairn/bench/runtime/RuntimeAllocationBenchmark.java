package dev.cairn.bench.runtime;

import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.runtime.Interpreter;
import dev.cairn.runtime.InterpreterConfig;
import dev.cairn.runtime.Ints;
import dev.cairn.runtime.Lists;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Objects created (and dropped) per second by 2 threads of one interpreter: an int (header + 8 bytes, freed by the
 * owner's decref at once) and a list with one item appended (two blocks and a lock). Throughput is per
 * benchmark, both threads together.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
@Threads(2)
public class RuntimeAllocationBenchmark {

    @State(Scope.Benchmark)
    public static class Shared {
        Runtime runtime;
        /** Thread states open; the last to close also closes the runtime (JMH tears Benchmark state down first). */
        final java.util.concurrent.atomic.AtomicInteger users = new java.util.concurrent.atomic.AtomicInteger();
        Interpreter interp;

        @Setup
        public void setUp() {
            runtime = Runtime.create();
            interp = runtime.newInterpreter(InterpreterConfig.isolated());
        }

    }

    @State(Scope.Thread)
    public static class PerThread {
        ThreadState ts;
        Shared shared;
        long counter = 1_000;

        @Setup
        public void setUp(Shared shared) {
            this.shared = shared;
            shared.users.incrementAndGet();
            ts = shared.interp.newThreadState();
        }

        @TearDown
        public void tearDown() {
            ts.close();
            if (shared.users.decrementAndGet() == 0) {
                shared.interp.release();
                shared.runtime.close();
            }
        }
    }

    @Benchmark
    public void intObject(PerThread me) {
        long obj = Ints.of(me.ts, me.counter++);
        Ref.decref(me.ts, obj);
    }

    @Benchmark
    public void listWithOneItem(PerThread me) {
        long list = Lists.create(me.ts);
        Lists.append(me.ts, list, Ints.of(me.ts, 7)); // a small int: immortal, not counted
        Ref.decref(me.ts, list);
        if ((me.counter++ & 255) == 0) {
            me.ts.checkpoint();
        }
    }
}
