package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import java.util.List;

/**
 * cache-thrash (Hoard's benchmark, in mimalloc-bench), active false sharing: every thread at once mallocs a small
 * block, writes every byte of it many times and frees it, over and over. Nothing is handed between threads, so an
 * allocator with per-thread pages never puts two threads' blocks on one cache line; one that serves concurrent
 * threads from one pool does, and the threads then fight over that line on every write. Ideal scaling:
 * {@code threads} times faster than one thread. {@link CacheScratchWorkload} is the passive variant (blocks freed
 * by other threads first).
 */
public final class CacheThrashWorkload extends AbstractWorkload {
    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("iterations", "malloc/write/free rounds per thread", 10, 1000, 5000, 1, Long.MAX_VALUE),
            new ParamSpec("repetitions", "writes of each byte per round, shared by the threads", 2_000, 20_000,
                    400_000, 1, Long.MAX_VALUE),
            new ParamSpec("size", "block size, bytes", 8, 8, 8, 2, 1 << 16));

    public CacheThrashWorkload() {
        super("cache-thrash",
                "cache-thrash: threads at once malloc a small block, write it many times, free it (false sharing)",
                2, SAME_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long iterations = params.get("iterations");
        long repetitions = Math.max(1, params.get("repetitions") / threads);
        int size = params.getInt("size");
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            for (long i = 0; i < iterations; i++) {
                long handle = BlockCheck.mallocFilled(view, size, tally);
                CacheScratchWorkload.scribble(view, handle, size, repetitions);
                BlockCheck.fill(view, handle, size);
                BlockCheck.checkAndFree(view, handle, size, tally);
            }
        });
        return WorkloadResult.of(elapsed, iterations * repetitions * size * threads, total);
    }
}
