package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * mleak (mimalloc-bench): round after round, a batch of short-lived threads each allocates one small long-lived
 * block, swaps it into a random slot of a shared transfer array, frees the block it took out (most often one a thread
 * that has ended allocated) and ends without saying goodbye to the allocator. At most {@code threads * transfers}
 * blocks are live at any time, yet every thread is new: an allocator that keeps per-thread memory after its thread
 * ends, or never reuses it, grows with the number of threads instead. The runner's RSS column is the number to read;
 * the time is mostly thread starts.
 */
public final class MleakWorkload extends AbstractWorkload {
    private static final long SEED = 0x1CE4E5B9L;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("rounds", "batches of short-lived threads", 20, 200, 1000, 1, Long.MAX_VALUE),
            new ParamSpec("transfers", "transfer slots per thread (live blocks at most)", 100, 100, 100, 1, 1 << 20),
            new ParamSpec("size", "block size, bytes", 128, 128, 128, 2, 1 << 20));

    public MleakWorkload() {
        super("mleak", "mleak: batches of short-lived threads each leave one block in a shared array and end",
                10, CROSS_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long rounds = params.get("rounds");
        int slots = Math.multiplyExact(threads, params.getInt("transfers"));
        int size = params.getInt("size");
        AtomicLongArray transfer = new AtomicLongArray(slots); // 0: empty
        Tally total = new Tally();
        long elapsed = 0;
        for (long round = 0; round < rounds; round++) {
            long seed = SEED + round * threads;
            elapsed += runThreads(peer, threads, total, (index, view, tally) -> {
                long handle = BlockCheck.mallocFilled(view, size, tally);
                int slot = new SplitMix64(seed + index).nextInt(slots);
                long previous = transfer.getAndSet(slot, handle);
                if (previous != 0) {
                    BlockCheck.checkAndFree(view, previous, size, tally);
                }
            });
        }
        // What is left in the array is freed by the main thread, timed as in the original.
        PeerThread main = peer.forThread();
        Tally mainTally = new Tally();
        long start = System.nanoTime();
        for (int i = 0; i < slots; i++) {
            long handle = transfer.getAndSet(i, 0);
            if (handle != 0) {
                BlockCheck.checkAndFree(main, handle, size, mainTally);
            }
        }
        elapsed += System.nanoTime() - start;
        main.detach();
        total.add(mainTally);
        return WorkloadResult.of(elapsed, rounds * threads, total);
    }
}
