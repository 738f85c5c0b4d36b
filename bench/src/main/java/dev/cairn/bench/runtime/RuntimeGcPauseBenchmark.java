package dev.cairn.bench.runtime;

import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.runtime.Floats;
import dev.cairn.runtime.Gc;
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
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pause of one {@link Gc#collect} over 1 million live objects, in milliseconds: 250,000 lists (GC-tracked) of
 * three floats each (not tracked: the collector walks only the GC heap, and reads a float only as a list's item),
 * all reachable from one root list ({@code reachable}), or with half the lists in garbage two-list cycles
 * ({@code halfCycles}: 125,000 lists and their 375,000 floats die); or 1 million GC-tracked objects, lists holding
 * one small (immortal) int each, all reachable ({@code millionTracked}). Built again before each measurement
 * (single shot).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS, "-Xmx2g"})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class RuntimeGcPauseBenchmark {

    private static final int LISTS = 250_000;
    private static final int TRACKED = 1_000_000;

    @Param({"reachable", "halfCycles", "millionTracked"})
    public String shape;

    private Runtime runtime;
    private Interpreter interp;
    private ThreadState ts;
    private long root;

    @Setup(Level.Iteration)
    public void build() {
        runtime = Runtime.create();
        interp = runtime.newInterpreter(InterpreterConfig.isolated());
        ts = interp.newThreadState();
        root = Lists.create(ts);
        if (shape.equals("millionTracked")) {
            long one = Ints.of(ts, 1); // small ints are immortal: every list is tracked, none of its items is
            for (int i = 0; i < TRACKED; i++) {
                long list = Lists.create(ts);
                Lists.append(ts, list, one);
                Lists.append(ts, root, list);
                Ref.decref(ts, list);
            }
            return;
        }
        long previous = 0;
        for (int i = 0; i < LISTS; i++) {
            long list = Lists.create(ts);
            for (int k = 0; k < 3; k++) {
                long f = Floats.of(ts, i + k * 0.5);
                Lists.append(ts, list, f);
                Ref.decref(ts, f);
            }
            boolean garbage = shape.equals("halfCycles") && (i & 2) != 0;
            if (garbage && (i & 1) == 0) {
                previous = list;
            } else if (garbage) {
                Lists.append(ts, list, previous); // a two-list cycle with the one before, unreachable
                Lists.append(ts, previous, list);
                Ref.decref(ts, previous);
                Ref.decref(ts, list);
            } else {
                Lists.append(ts, root, list);
                Ref.decref(ts, list);
            }
        }
    }

    @TearDown(Level.Iteration)
    public void tearDown() {
        Ref.decref(ts, root);
        ts.close();
        interp.release();
        runtime.close();
    }

    @Benchmark
    public long collect() {
        return Gc.collect(ts);
    }
}
