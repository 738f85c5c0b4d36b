package dev.cairn.bench.alloc;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.bench.workload.Tally;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * A stress runner workload's timed loop under JMH, on one thread: what {@link StressPairsBenchmark} and
 * {@link StressBatchBenchmark} share. The peers are the stress runner's; jemalloc is left out (it must be preloaded at
 * JVM start, which JMH's forks cannot do), and so is Chronicle (its JVM flags stay with the stress runner's forks).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS,
        "--sun-misc-unsafe-memory-access=allow", "-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public abstract class StressLoopBenchmark {
    @Param({"cairn-checked", "cairn-unchecked", "glibc", "mimalloc", "unsafe", "arena-confined", "netty-pooled",
        "netty-adaptive", "byte-array"})
    public String peer;

    protected PeerThread view;
    protected Tally tally;
    private Peer allocator;

    @Setup
    public void setUp() {
        allocator = Peers.byName(peer).orElseThrow().create();
        view = allocator.forThread();
        tally = new Tally();
        prepare();
    }

    /** Builds the loop's inputs (sizes, orders), untimed. */
    protected abstract void prepare();

    @TearDown
    public void tearDown() {
        view.detach();
        allocator.close();
    }
}
