package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;

/**
 * larson, a server simulation: each of {@code threads} threads owns a slice of a shared array of slots and replaces
 * random slots (free the old block, malloc a new one of random size, write it). After its steps a thread starts a
 * fresh thread on the same slice and exits; the slice is handed on {@code generations} times. Blocks allocated by
 * the main thread or by a dead thread are freed by a live one: remote frees and thread churn together, the case
 * that needs an allocator to reclaim a dead thread's memory.
 *
 * <p>{@code larson-virtual} ({@link #virtual()}) runs every generation on a virtual thread instead, more slices than
 * carriers and many more, shorter generations: a service handing requests to fresh virtual threads. None of the C
 * benchmarks has it; it shows what an allocator with per-thread state does when threads are cheap and countless
 * (Cairn's virtual threads share a few heaps, per the carriers).
 */
public final class LarsonWorkload extends AbstractWorkload {
    private static final long SEED = 0x1A450L;

    private static final List<ParamSpec> VIRTUAL_PARAMS = List.of(
            new ParamSpec("slots", "live blocks per slice", 100, 1000, 5000, 1, 1 << 24),
            new ParamSpec("steps", "slot replacements per virtual thread", 200, 2_000, 10_000, 1, Long.MAX_VALUE),
            new ParamSpec("generations", "virtual threads that run one slice, one after another", 5, 100, 1000, 1,
                    1 << 24),
            new ParamSpec("minSize", "smallest block, bytes", 8, 8, 8, 1, 1 << 20),
            new ParamSpec("maxSize", "largest block, bytes", 1000, 1000, 1000, 1, 1 << 20));

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("slots", "live blocks per thread", 200, 1000, 5000, 1, 1 << 24),
            new ParamSpec("steps", "slot replacements per thread lifetime", 2_000, 50_000, 500_000, 1,
                    Long.MAX_VALUE),
            new ParamSpec("generations", "threads that run one slice, one after another", 3, 10, 20, 1, 1 << 20),
            new ParamSpec("minSize", "smallest block, bytes", 8, 8, 8, 1, 1 << 20),
            new ParamSpec("maxSize", "largest block, bytes", 1000, 1000, 1000, 1, 1 << 20));

    /** Whether the generations are virtual threads. */
    private final boolean virtual;

    /** larson on platform threads. */
    public LarsonWorkload() {
        this("larson",
                "larson: threads replace random slots, then hand their slice to a new thread (remote frees, churn)",
                2, PARAMS, false);
    }

    private LarsonWorkload(String name, String description, int threads, List<ParamSpec> params, boolean virtual) {
        super(name, description, threads, CROSS_THREAD, params);
        this.virtual = virtual;
    }

    /** larson with every generation a virtual thread ({@code larson-virtual}). */
    public static LarsonWorkload virtual() {
        return new LarsonWorkload("larson-virtual",
                "larson on virtual threads: 8 slices, each handed on through 100 short-lived virtual threads", 8,
                VIRTUAL_PARAMS, true);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        int slots = params.getInt("slots");
        long steps = params.get("steps");
        int generations = params.getInt("generations");
        int minSize = params.getInt("minSize");
        int maxSize = checkedMax(minSize, params.getInt("maxSize"));
        Tally total = new Tally();
        Slice[] slices = new Slice[threads];
        PeerThread main = peer.forThread();
        Tally mainTally = new Tally();
        for (int t = 0; t < threads; t++) {
            slices[t] = new Slice(slots, new SplitMix64(SEED + t), minSize, maxSize);
            slices[t].fillAll(main, mainTally);
        }
        Workers.Body body = (index, view, tally) -> slices[index].replace(view, steps, tally);
        long elapsed = virtual ? runVirtualChains(peer, threads, generations, total, body)
                : runChains(peer, threads, generations, total, body);
        for (Slice slice : slices) {
            slice.freeAll(main, mainTally);
        }
        main.detach();
        total.add(mainTally);
        return WorkloadResult.of(elapsed, steps * generations * threads, total);
    }

    /**
     * One thread's slots. Used by one thread at a time; thread start orders one generation's writes before the
     * next one's reads.
     */
    private static final class Slice {
        private final long[] handles;
        private final int[] sizes;
        private final SplitMix64 random;
        private final int[] sizeTable;

        Slice(int slots, SplitMix64 random, int minSize, int maxSize) {
            this.handles = new long[slots];
            this.sizes = new int[slots];
            this.random = random;
            this.sizeTable = Sizes.uniform(random, 4096, minSize, maxSize);
        }

        void fillAll(PeerThread view, Tally tally) {
            for (int i = 0; i < handles.length; i++) {
                sizes[i] = sizeTable[i & 4095];
                handles[i] = BlockCheck.mallocFilled(view, sizes[i], tally);
            }
        }

        void replace(PeerThread view, long steps, Tally tally) {
            for (long s = 0; s < steps; s++) {
                long r = random.next() >>> 1;
                int slot = (int) (r % handles.length);
                BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                int size = sizeTable[(int) (r >>> 32) & 4095];
                sizes[slot] = size;
                handles[slot] = BlockCheck.mallocFilled(view, size, tally);
            }
        }

        void freeAll(PeerThread view, Tally tally) {
            for (int i = 0; i < handles.length; i++) {
                BlockCheck.checkAndFree(view, handles[i], sizes[i], tally);
            }
        }
    }
}
