package dev.cairn.bench.alloc;

import dev.cairn.bench.workload.PairsWorkload;
import dev.cairn.bench.workload.SplitMix64;
import dev.cairn.bench.workload.Sizes;
import dev.cairn.bench.workload.Tally;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;

/**
 * The stress runner's pairs workload ({@link PairsWorkload}) under JMH: ns per malloc+write+check+free pair, sizes
 * 16 B to 32 KiB skewed small, one thread, the stress runner's peers (but jemalloc and Chronicle, see
 * {@link StressLoopBenchmark}).
 */
public class StressPairsBenchmark extends StressLoopBenchmark {
    static final int OPS = 1024;

    private int[] sizes;

    @Override
    protected void prepare() {
        sizes = Sizes.octaves(new SplitMix64(PairsWorkload.SEED), PairsWorkload.SIZE_TABLE, 16, 32768);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public Tally pairs() {
        PairsWorkload.loop(view, sizes, OPS, tally);
        return tally;
    }
}
