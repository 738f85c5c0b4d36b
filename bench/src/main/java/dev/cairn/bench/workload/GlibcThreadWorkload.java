package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import java.util.List;

/**
 * glibc-thread (glibc's {@code benchtests/bench-malloc-thread.c}, in mimalloc-bench): each thread keeps a working
 * set of slots and, again and again, frees the block in a random slot and puts a new block of a random size there.
 * Sizes follow an inverse-square distribution (most requests tiny, a few up to 32 KiB), as the original draws them,
 * so it measures the small-block fast paths under a steady, thread-local live set. The original runs for a fixed
 * time; this one does a fixed number of replacements per thread.
 */
public final class GlibcThreadWorkload extends AbstractWorkload {
    private static final long SEED = 0x61BC7L;
    /** Sizes and slot indices drawn up front, as the original does (it draws 8,000 sizes). */
    private static final int TABLE = 8192;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("ops", "slot replacements (free + malloc) per thread", 20_000, 2_000_000, 20_000_000, 1,
                    Long.MAX_VALUE),
            new ParamSpec("slots", "working set: live blocks per thread", 1024, 1024, 1024, 1, 1 << 24),
            new ParamSpec("minSize", "smallest block, bytes", 4, 4, 4, 1, 1 << 20),
            new ParamSpec("maxSize", "largest block, bytes", 32768, 32768, 32768, 1, 1 << 24));

    public GlibcThreadWorkload() {
        super("glibc-thread",
                "glibc-thread: threads replace random slots of their own working set, inverse-square sizes 4 B-32 KiB",
                2, SAME_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long ops = params.get("ops");
        int slots = params.getInt("slots");
        int minSize = params.getInt("minSize");
        int maxSize = checkedMax(minSize, params.getInt("maxSize"));
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            SplitMix64 random = new SplitMix64(SEED + index);
            int[] sizeTable = inverseSquare(random, TABLE, minSize, maxSize);
            int[] slotTable = new int[TABLE];
            for (int i = 0; i < TABLE; i++) {
                slotTable[i] = random.nextInt(slots);
            }
            long[] handles = new long[slots];
            int[] sizes = new int[slots];
            for (long i = 0; i < ops; i++) {
                // Slot and size walk their tables at different strides, so they do not repeat in lockstep.
                int slot = slotTable[(int) (i & (TABLE - 1))];
                if (handles[slot] != 0) {
                    BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                }
                int size = sizeTable[(int) ((i * 7 + (i >>> 13)) & (TABLE - 1))];
                sizes[slot] = size;
                handles[slot] = BlockCheck.mallocFilled(view, size, tally);
            }
            for (int slot = 0; slot < slots; slot++) {
                if (handles[slot] != 0) {
                    BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                }
            }
        });
        return WorkloadResult.of(elapsed, ops * threads, total);
    }

    /**
     * Sizes in {@code [min, max]} with density proportional to 1/size²: the inverse of that distribution's CDF,
     * {@code 1 / (1/min - u (1/min - 1/max))} for u uniform in [0, 1).
     */
    static int[] inverseSquare(SplitMix64 random, int count, int min, int max) {
        int[] sizes = new int[count];
        double lo = 1.0 / min;
        double span = lo - 1.0 / max;
        for (int i = 0; i < count; i++) {
            double u = (random.next() >>> 11) * 0x1.0p-53;
            sizes[i] = (int) Math.max(min, Math.min(max, Math.round(1.0 / (lo - u * span))));
        }
        return sizes;
    }
}
