package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * xmalloc-test: producer threads allocate batches of blocks and push them on a shared queue (at most 100 batches
 * waiting, as in the original's capped stack); consumer threads take them and free every block. Every free is a
 * cross-thread free, the case thread-local-cache designs suffer from. {@code threads} producers and as many
 * consumers. Peak RSS depends on how far producers run ahead, as in the original: read it with care.
 */
public final class XmallocWorkload extends AbstractWorkload {
    private static final int QUEUE_BATCHES = 100;
    private static final long SEED = 0x3A110CL;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("batches", "batches per producer", 10, 100, 2000, 1, Long.MAX_VALUE),
            new ParamSpec("batchSize", "blocks per batch", 256, 4096, 4096, 1, 1 << 20),
            new ParamSpec("size", "block size in bytes; 0 = random 16-2048 per block", 64, 64, 64, 0, 1 << 20));

    /** One batch in flight: its blocks and their sizes; a batch with no handles tells a consumer to stop. */
    private record Batch(long[] handles, int[] sizes) {
        static final Batch STOP = new Batch(new long[0], new int[0]);
    }

    public XmallocWorkload() {
        super("xmalloc", "xmalloc-test: producers allocate batches, consumers free them (all frees cross-thread)",
                2, CROSS_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long batches = params.get("batches");
        int batchSize = params.getInt("batchSize");
        int fixedSize = params.getInt("size");
        BlockingQueue<Batch> queue = new ArrayBlockingQueue<>(QUEUE_BATCHES);
        Tally total = new Tally();
        long elapsed = runThreads(peer, 2 * threads, total, (index, view, tally) -> {
            try {
                if (index < threads) {
                    produce(view, queue, batches, batchSize, fixedSize, new SplitMix64(SEED + index), tally);
                } else {
                    consume(view, queue, tally);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("interrupted", e);
            }
        });
        return WorkloadResult.of(elapsed, batches * batchSize * threads, total);
    }

    private static void produce(PeerThread view, BlockingQueue<Batch> queue, long batches, int batchSize,
            int fixedSize, SplitMix64 random, Tally tally) throws InterruptedException {
        int[] randomSizes = fixedSize == 0 ? Sizes.uniform(random, 4096, 16, 2048) : null;
        for (long b = 0; b < batches; b++) {
            long[] handles = new long[batchSize];
            int[] sizes = new int[batchSize];
            for (int i = 0; i < batchSize; i++) {
                int size = randomSizes == null ? fixedSize : randomSizes[(int) ((b * batchSize + i) & 4095)];
                sizes[i] = size;
                handles[i] = BlockCheck.mallocFilled(view, size, tally);
            }
            queue.put(new Batch(handles, sizes));
        }
        // One stop marker per producer: consumers equal producers in number, so each consumer gets one.
        queue.put(Batch.STOP);
    }

    private static void consume(PeerThread view, BlockingQueue<Batch> queue, Tally tally)
            throws InterruptedException {
        while (true) {
            Batch batch = queue.take();
            if (batch == Batch.STOP) {
                return;
            }
            for (int i = 0; i < batch.handles().length; i++) {
                BlockCheck.checkAndFree(view, batch.handles()[i], batch.sizes()[i], tally);
            }
        }
    }
}
