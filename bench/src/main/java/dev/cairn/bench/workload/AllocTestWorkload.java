package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import java.util.List;

/**
 * alloc-test (the OLogN/ITHare allocator tester, in mimalloc-bench as alloc-test1 and alloc-testN): every thread owns
 * its share of a 2^18-slot array and, again and again, picks a random slot: a full slot's block is freed, an empty
 * slot gets a new block of a skewed size (as many requests per power-of-two octave from 8 B to 1 KiB, so small
 * blocks dominate), written whole. About half the slots are live at any time, in random order: the small-object
 * paths under a large, scattered live set, with no sharing between threads (1 vs N threads shows the scaling).
 * The original does 100 M operations per thread; the full preset here does 20 M.
 */
public final class AllocTestWorkload extends AbstractWorkload {
    private static final long SEED = 0xA77E57L;
    /** Sizes and slots are drawn from tables this long (a power of two). */
    private static final int TABLE = 1 << 16;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("ops", "slot operations (a free or a malloc) per thread", 20_000, 2_000_000, 20_000_000, 1,
                    Long.MAX_VALUE),
            new ParamSpec("slots", "slots of the array, shared out among the threads", 4096, 1 << 18, 1 << 18, 1,
                    1 << 26),
            new ParamSpec("minSize", "smallest block, bytes", 8, 8, 8, 1, 1 << 20),
            new ParamSpec("maxSize", "largest block, bytes", 1024, 1024, 1024, 1, 1 << 20));

    public AllocTestWorkload() {
        super("alloc-test",
                "alloc-test: random slots of a 2^18 array toggled (free if full, else malloc 8 B-1 KiB skewed)",
                1, SAME_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long ops = params.get("ops");
        int slots = Math.max(1, params.getInt("slots") / threads);
        int minSize = params.getInt("minSize");
        int maxSize = checkedMax(minSize, params.getInt("maxSize"));
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            SplitMix64 random = new SplitMix64(SEED + index);
            int[] sizeTable = Sizes.octaves(random, TABLE, minSize, maxSize);
            long[] handles = new long[slots];
            int[] sizes = new int[slots];
            for (long i = 0; i < ops; i++) {
                long r = random.next() >>> 1;
                int slot = (int) (r % slots);
                if (handles[slot] != 0) {
                    BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                    handles[slot] = 0;
                } else {
                    int size = sizeTable[(int) (r >>> 40) & (TABLE - 1)];
                    sizes[slot] = size;
                    handles[slot] = BlockCheck.mallocFilled(view, size, tally);
                    BlockCheck.touch(view, handles[slot], size);
                }
            }
            for (int slot = 0; slot < slots; slot++) {
                if (handles[slot] != 0) {
                    BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                }
            }
        });
        return WorkloadResult.of(elapsed, ops * threads, total);
    }
}
