package dev.cairn.bench.alloc;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.bench.workload.PairsWorkload;
import dev.cairn.bench.workload.SplitMix64;
import dev.cairn.bench.workload.Sizes;
import dev.cairn.bench.workload.Tally;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The stress runner's pairs workload ({@link PairsWorkload}) under JMH: ns per malloc+write+check+free pair, sizes
 * 16 B to 32 KiB skewed small, one thread, the stress runner's peers. jemalloc is left out (it must be preloaded at
 * JVM start, which JMH's forks cannot do), and so is Chronicle (its JVM flags stay with the stress runner's forks).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS,
        "--sun-misc-unsafe-memory-access=allow", "-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class StressPairsBenchmark {
    static final int OPS = 1024;

    @Param({"cairn-checked", "cairn-unchecked", "glibc", "mimalloc", "unsafe", "arena-confined", "netty-pooled",
        "netty-adaptive", "byte-array"})
    public String peer;

    private Peer allocator;
    private PeerThread view;
    private int[] sizes;
    private Tally tally;

    @Setup
    public void setUp() {
        allocator = Peers.byName(peer).orElseThrow().create();
        view = allocator.forThread();
        sizes = Sizes.octaves(new SplitMix64(PairsWorkload.SEED), PairsWorkload.SIZE_TABLE, 16, 32768);
        tally = new Tally();
    }

    @TearDown
    public void tearDown() {
        view.detach();
        allocator.close();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public Tally pairs() {
        PairsWorkload.loop(view, sizes, OPS, tally);
        return tally;
    }
}
