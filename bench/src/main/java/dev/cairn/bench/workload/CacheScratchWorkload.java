package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;

/**
 * cache-scratch, passive false sharing: the main thread allocates one small block per thread, back to back (so
 * they share cache lines), and hands one to each thread. Each thread frees its block (a remote free), then
 * allocates a small block, writes every byte of it many times and frees it, over and over. An allocator that lets
 * a thread reuse the block it just freed for another thread makes the threads write the same cache line; one that
 * returns blocks to their owner does not. Ideal scaling: {@code threads} times faster than one thread.
 */
public final class CacheScratchWorkload extends AbstractWorkload {
    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("iterations", "malloc/write/free rounds per thread", 10, 200, 1000, 1, Long.MAX_VALUE),
            new ParamSpec("repetitions", "writes of each byte per round, shared by the threads", 2_000, 100_000,
                    2_000_000, 1, Long.MAX_VALUE),
            new ParamSpec("size", "block size, bytes", 8, 8, 8, 2, 1 << 16));

    public CacheScratchWorkload() {
        super("cache-scratch",
                "cache-scratch: blocks handed to threads and freed there, then per-thread malloc/write/free",
                2, CROSS_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long iterations = params.get("iterations");
        long repetitions = Math.max(1, params.get("repetitions") / threads);
        int size = params.getInt("size");
        PeerThread main = peer.forThread();
        Tally mainTally = new Tally();
        long[] handed = new long[threads];
        for (int t = 0; t < threads; t++) {
            handed[t] = BlockCheck.mallocFilled(main, size, mainTally);
        }
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            BlockCheck.checkAndFree(view, handed[index], size, tally);
            for (long i = 0; i < iterations; i++) {
                long handle = BlockCheck.mallocFilled(view, size, tally);
                scribble(view, handle, size, repetitions);
                BlockCheck.fill(view, handle, size);
                BlockCheck.checkAndFree(view, handle, size, tally);
            }
        });
        main.detach();
        total.add(mainTally);
        return WorkloadResult.of(elapsed, iterations * repetitions * size * threads, total);
    }

    /** Writes every byte of the block {@code repetitions} times (the cache-line traffic under test). */
    static void scribble(PeerThread view, long handle, int size, long repetitions) {
        for (long r = 0; r < repetitions; r++) {
            for (int b = 0; b < size; b++) {
                view.putByte(handle, b, (byte) (r + b));
            }
        }
    }
}
