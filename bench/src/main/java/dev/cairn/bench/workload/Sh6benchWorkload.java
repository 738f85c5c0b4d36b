package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import java.util.List;

/**
 * sh6bench-like: each round allocates a run of blocks of mixed sizes, then frees the first half last-in-first-out
 * (newest first) and the second half first-in-first-out (oldest first), the two free orders SmartHeap's benchmark
 * mixes. Per thread, one thread by default.
 */
public final class Sh6benchWorkload extends AbstractWorkload {
    private static final long SEED = 0x56BL;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("rounds", "allocate/free rounds per thread", 5, 200, 5000, 1, Long.MAX_VALUE),
            new ParamSpec("calls", "blocks allocated per round", 1000, 10_000, 10_000, 2, 1 << 24),
            new ParamSpec("minSize", "smallest block, bytes", 1, 1, 1, 1, 1 << 20),
            new ParamSpec("maxSize", "largest block, bytes", 1000, 1000, 1000, 1, 1 << 20));

    public Sh6benchWorkload() {
        super("sh6bench", "sh6bench-like: runs of mixed sizes, half freed LIFO, half FIFO; per thread",
                1, SAME_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long rounds = params.get("rounds");
        int calls = params.getInt("calls");
        int minSize = params.getInt("minSize");
        int maxSize = checkedMax(minSize, params.getInt("maxSize"));
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            int[] sizeTable = Sizes.uniform(new SplitMix64(SEED + index), 4096, minSize, maxSize);
            long[] handles = new long[calls];
            int[] sizes = new int[calls];
            int next = 0;
            for (long round = 0; round < rounds; round++) {
                for (int i = 0; i < calls; i++) {
                    sizes[i] = sizeTable[next++ & 4095];
                    handles[i] = BlockCheck.mallocFilled(view, sizes[i], tally);
                }
                int half = calls / 2;
                for (int i = half - 1; i >= 0; i--) { // LIFO: newest of the first half first
                    BlockCheck.checkAndFree(view, handles[i], sizes[i], tally);
                }
                for (int i = half; i < calls; i++) { // FIFO: oldest of the second half first
                    BlockCheck.checkAndFree(view, handles[i], sizes[i], tally);
                }
            }
        });
        return WorkloadResult.of(elapsed, rounds * calls * threads, total);
    }
}
