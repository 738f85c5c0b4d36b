package dev.cairn.bench.alloc;

import dev.cairn.bench.workload.BatchWorkload;
import dev.cairn.bench.workload.SplitMix64;
import dev.cairn.bench.workload.Sizes;
import dev.cairn.bench.workload.Tally;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;

/**
 * The stress runner's batch workload ({@link BatchWorkload}) under JMH: one invocation allocates 10,000 blocks of
 * 16 B to 1 KiB and frees them in random order; the score is ns per block (malloc+write+check+free). Peers as in
 * {@link StressLoopBenchmark}.
 */
public class StressBatchBenchmark extends StressLoopBenchmark {
    static final int BLOCKS = 10_000;

    private int[] sizes;
    private int[][] orders;

    @Override
    protected void prepare() {
        SplitMix64 random = new SplitMix64(BatchWorkload.SEED);
        sizes = Sizes.uniform(random, BLOCKS, 16, 1024);
        orders = new int[BatchWorkload.PERMUTATIONS][];
        for (int p = 0; p < orders.length; p++) {
            orders[p] = Sizes.permutation(random, BLOCKS);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public Tally batch() {
        BatchWorkload.loop(view, sizes, orders, 1, tally);
        return tally;
    }
}
