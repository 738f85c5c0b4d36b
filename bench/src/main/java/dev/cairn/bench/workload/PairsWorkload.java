package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;

/**
 * alloc-test style pairs: malloc a block, write it, check it, free it at once. Sizes 16 B to 32 KiB, as many
 * requests per power-of-two octave (so small blocks dominate the count). Every thread runs the same loop on its
 * own; one thread by default. The loop is mirrored in {@code bench/native/floor.c}.
 */
public final class PairsWorkload extends AbstractWorkload {
    /** Sizes are drawn from a table this long (a power of two, indexed with a mask). */
    public static final int SIZE_TABLE = 4096;
    /** Seed of thread 0's size table; thread i uses SEED + i. floor.c uses the same. */
    public static final long SEED = 0x5EEDL;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("ops", "malloc+free pairs per thread", 20_000, 1_500_000, 20_000_000, 1, Long.MAX_VALUE),
            new ParamSpec("minSize", "smallest block, bytes", 16, 16, 16, 1, 1 << 20),
            new ParamSpec("maxSize", "largest block, bytes", 32768, 32768, 32768, 1, 1 << 20));

    public PairsWorkload() {
        super("pairs", "alloc-test pairs: malloc, write, free at once; 16 B-32 KiB skewed small; per thread",
                1, SAME_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long ops = params.get("ops");
        int minSize = params.getInt("minSize");
        int maxSize = checkedMax(minSize, params.getInt("maxSize"));
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            int[] sizes = Sizes.octaves(new SplitMix64(SEED + index), SIZE_TABLE, minSize, maxSize);
            loop(view, sizes, ops, tally);
        });
        return WorkloadResult.of(elapsed, ops * threads, total);
    }

    /** The timed loop, on its own so that JMH can call it. */
    public static void loop(PeerThread view, int[] sizes, long ops, Tally tally) {
        for (long i = 0; i < ops; i++) {
            int size = sizes[(int) i & (SIZE_TABLE - 1)];
            long handle = BlockCheck.mallocFilled(view, size, tally);
            BlockCheck.checkAndFree(view, handle, size, tally);
        }
    }
}
