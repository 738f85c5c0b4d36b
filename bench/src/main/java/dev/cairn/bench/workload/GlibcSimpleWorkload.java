package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * glibc-simple (glibc's {@code benchtests/bench-malloc-simple.c}, in mimalloc-bench): for block sizes 16, 32 and 64 B
 * and batch lengths 25, 100, 400 and 1,600, round after round a thread mallocs a batch and writes every block, then
 * frees the first half in allocation order (FIFO) and the second half from the last block back (LIFO). The whole
 * sequence runs three times per worker: on the worker, on a fresh thread the worker starts and joins, and on the
 * worker again once another thread has used the allocator (glibc's single-thread shortcuts end there). It measures
 * the single-thread fast paths with short-lived batches, the case per-thread caches are made for.
 */
public final class GlibcSimpleWorkload extends AbstractWorkload {
    /** Block sizes, bytes, as the original. */
    static final int[] SIZES = {16, 32, 64};
    /** Batch lengths, as the original. */
    static final int[] BATCHES = {25, 100, 400, 1600};
    /** On the worker, on a fresh thread, on the worker again. */
    static final int PHASES = 3;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("iterations", "blocks per (size, batch length) and phase: iterations / length rounds",
                    2_000, 200_000, 2_000_000, 1600, Long.MAX_VALUE / 64));

    public GlibcSimpleWorkload() {
        super("glibc-simple",
                "glibc-simple: batches of 25-1,600 blocks of 16-64 B, written, freed half FIFO half LIFO; 3 phases",
                1, SAME_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long iterations = params.get("iterations");
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            allSizes(view, iterations, tally);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Tally second = new Tally();
            Thread fresh = Thread.ofPlatform().name(name() + "-" + index + "-second").start(() -> {
                PeerThread secondView = peer.forThread();
                try {
                    allSizes(secondView, iterations, second);
                } catch (Throwable t) {
                    failure.set(t);
                } finally {
                    secondView.detach();
                }
            });
            try {
                fresh.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the second phase ran", e);
            }
            if (failure.get() != null) {
                throw new IllegalStateException("the second phase failed", failure.get());
            }
            tally.add(second);
            allSizes(view, iterations, tally);
        });
        return WorkloadResult.of(elapsed, expectedMallocs(iterations) * threads, total);
    }

    /** Blocks one worker allocates: three phases of every size and batch length. */
    static long expectedMallocs(long iterations) {
        long perSize = 0;
        for (int batch : BATCHES) {
            perSize += Math.max(1, iterations / batch) * batch;
        }
        return PHASES * SIZES.length * perSize;
    }

    private static void allSizes(PeerThread view, long iterations, Tally tally) {
        long[] handles = new long[BATCHES[BATCHES.length - 1]];
        for (int size : SIZES) {
            for (int batch : BATCHES) {
                long rounds = Math.max(1, iterations / batch);
                for (long round = 0; round < rounds; round++) {
                    for (int i = 0; i < batch; i++) {
                        handles[i] = BlockCheck.mallocFilled(view, size, tally);
                        BlockCheck.touch(view, handles[i], size);
                    }
                    for (int i = 0; i < batch / 2; i++) {
                        BlockCheck.checkAndFree(view, handles[i], size, tally);
                    }
                    for (int i = batch - 1; i >= batch / 2; i--) {
                        BlockCheck.checkAndFree(view, handles[i], size, tally);
                    }
                }
            }
        }
    }
}
