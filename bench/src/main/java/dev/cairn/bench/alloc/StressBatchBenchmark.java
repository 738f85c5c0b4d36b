package dev.cairn.bench.alloc;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.bench.workload.BatchWorkload;
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
 * The stress runner's batch workload ({@link BatchWorkload}) under JMH: one invocation allocates 10,000 blocks of
 * 16 B to 1 KiB and frees them in random order; the score is ns per block (malloc+write+check+free). Peers as in
 * {@link StressPairsBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS,
        "--sun-misc-unsafe-memory-access=allow", "-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class StressBatchBenchmark {
    static final int BLOCKS = 10_000;

    @Param({"cairn-checked", "cairn-unchecked", "glibc", "mimalloc", "unsafe", "arena-confined", "netty-pooled",
        "netty-adaptive", "byte-array"})
    public String peer;

    private Peer allocator;
    private PeerThread view;
    private int[] sizes;
    private int[][] orders;
    private Tally tally;

    @Setup
    public void setUp() {
        allocator = Peers.byName(peer).orElseThrow().create();
        view = allocator.forThread();
        SplitMix64 random = new SplitMix64(BatchWorkload.SEED);
        sizes = Sizes.uniform(random, BLOCKS, 16, 1024);
        orders = new int[BatchWorkload.PERMUTATIONS][];
        for (int p = 0; p < orders.length; p++) {
            orders[p] = Sizes.permutation(random, BLOCKS);
        }
        tally = new Tally();
    }

    @TearDown
    public void tearDown() {
        view.detach();
        allocator.close();
    }

    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public Tally batch() {
        BatchWorkload.loop(view, sizes, orders, 1, tally);
        return tally;
    }
}
