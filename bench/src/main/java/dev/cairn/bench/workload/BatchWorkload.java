package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;

/**
 * A random-order batch: allocate 10,000 blocks of 16 B to 1 KiB (all live at once), then free them in a random
 * order; repeat. Measures how an allocator copes with many live blocks and scattered frees, the case where
 * free-list locality matters. Per thread, one thread by default; mirrored in {@code bench/native/floor.c}.
 */
public final class BatchWorkload extends AbstractWorkload {
    /** Free orders are drawn from this many precomputed permutations, round after round. */
    public static final int PERMUTATIONS = 8;
    public static final long SEED = 0xBA7CL;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("rounds", "allocate-all/free-all rounds per thread", 3, 150, 2000, 1, Long.MAX_VALUE),
            new ParamSpec("blocks", "live blocks per round", 1_000, 10_000, 10_000, 1, 1 << 26),
            new ParamSpec("minSize", "smallest block, bytes", 16, 16, 16, 1, 1 << 20),
            new ParamSpec("maxSize", "largest block, bytes", 1024, 1024, 1024, 1, 1 << 20));

    public BatchWorkload() {
        super("batch", "random-order batch: 10,000 live blocks of 16 B-1 KiB, freed in random order; per thread",
                1, SAME_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long rounds = params.get("rounds");
        int blocks = params.getInt("blocks");
        int minSize = params.getInt("minSize");
        int maxSize = checkedMax(minSize, params.getInt("maxSize"));
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            SplitMix64 random = new SplitMix64(SEED + index);
            int[] sizes = Sizes.uniform(random, blocks, minSize, maxSize);
            int[][] orders = new int[PERMUTATIONS][];
            for (int p = 0; p < PERMUTATIONS; p++) {
                orders[p] = Sizes.permutation(random, blocks);
            }
            loop(view, sizes, orders, rounds, tally);
        });
        return WorkloadResult.of(elapsed, rounds * blocks * threads, total);
    }

    /** The timed loop, on its own so that JMH can call it. */
    public static void loop(PeerThread view, int[] sizes, int[][] orders, long rounds, Tally tally) {
        long[] handles = new long[sizes.length];
        for (long round = 0; round < rounds; round++) {
            for (int i = 0; i < sizes.length; i++) {
                handles[i] = BlockCheck.mallocFilled(view, sizes[i], tally);
            }
            int[] order = orders[(int) (round % orders.length)];
            for (int i : order) {
                BlockCheck.checkAndFree(view, handles[i], sizes[i], tally);
            }
        }
    }
}
