package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A test-stress (mstress) style mix: threads randomly allocate (mostly small, now and then 16x or 128x larger),
 * free, and swap blocks with a shared transfer array that other threads take from (object migration). Threads die
 * after each round and fresh ones start, while the blocks in the transfer array survive them: thread churn with
 * live blocks left behind.
 */
public final class StressMixWorkload extends AbstractWorkload {
    private static final long SEED = 0x57E55L;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("rounds", "thread generations", 2, 10, 25, 1, 1 << 20),
            new ParamSpec("steps", "random operations per thread per round", 2_000, 50_000, 400_000, 1,
                    Long.MAX_VALUE),
            new ParamSpec("local", "most blocks a thread keeps", 100, 1000, 2000, 1, 1 << 24),
            new ParamSpec("transfer", "slots of the shared transfer array", 100, 1000, 1000, 1, 1 << 24));

    /** A block in the transfer array, with the size its check needs. */
    private record Block(long handle, int size) {
    }

    public StressMixWorkload() {
        super("stress",
                "test-stress mix: random malloc/free, blocks swapped between threads, threads recreated each round",
                2, CROSS_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        int rounds = params.getInt("rounds");
        long steps = params.get("steps");
        int local = params.getInt("local");
        AtomicReferenceArray<Block> transfer = new AtomicReferenceArray<>(params.getInt("transfer"));
        Tally total = new Tally();
        long start = System.nanoTime();
        for (int round = 0; round < rounds; round++) {
            int r = round;
            runThreads(peer, threads, total, (index, view, tally) ->
                    new Mixer(view, new SplitMix64(SEED + 1000L * r + index), local, transfer, tally).run(steps));
        }
        long elapsed = System.nanoTime() - start;
        PeerThread main = peer.forThread();
        Tally mainTally = new Tally();
        for (int i = 0; i < transfer.length(); i++) {
            Block block = transfer.getAndSet(i, null);
            if (block != null) {
                BlockCheck.checkAndFree(main, block.handle(), block.size(), mainTally);
            }
        }
        main.detach();
        total.add(mainTally);
        return WorkloadResult.of(elapsed, steps * rounds * threads, total);
    }

    /** One thread's round: its kept blocks and its random choices. */
    private static final class Mixer {
        private final PeerThread view;
        private final SplitMix64 random;
        private final long[] handles;
        private final int[] sizes;
        private final AtomicReferenceArray<Block> transfer;
        private final Tally tally;
        private int count;

        Mixer(PeerThread view, SplitMix64 random, int local, AtomicReferenceArray<Block> transfer, Tally tally) {
            this.view = view;
            this.random = random;
            this.handles = new long[local];
            this.sizes = new int[local];
            this.transfer = transfer;
            this.tally = tally;
        }

        void run(long steps) {
            for (long s = 0; s < steps; s++) {
                int choice = random.nextInt(100);
                if (choice < 50) {
                    int size = size();
                    keep(BlockCheck.mallocFilled(view, size, tally), size);
                } else if (choice < 75) {
                    freeRandom();
                } else {
                    exchange();
                }
            }
            while (count > 0) {
                freeRandom();
            }
        }

        /** Mostly 16-512 bytes; 1% sixteen times larger, 0.1% 128 times (up to 64 KiB). */
        private int size() {
            int size = 16 * (1 + random.nextInt(32));
            int scale = random.nextInt(1000);
            return scale == 0 ? size * 128 : scale < 10 ? size * 16 : size;
        }

        private void keep(long handle, int size) {
            if (count == handles.length) {
                freeRandom();
            }
            handles[count] = handle;
            sizes[count++] = size;
        }

        private void freeRandom() {
            if (count == 0) {
                return;
            }
            int i = random.nextInt(count);
            BlockCheck.checkAndFree(view, handles[i], sizes[i], tally);
            handles[i] = handles[--count];
            sizes[i] = sizes[count];
        }

        /** Puts one of ours (or nothing) into a random transfer slot and keeps what was there. */
        private void exchange() {
            Block mine = null;
            if (count > 0) {
                int i = random.nextInt(count);
                mine = new Block(handles[i], sizes[i]);
                handles[i] = handles[--count];
                sizes[i] = sizes[count];
            }
            Block theirs = transfer.getAndSet(random.nextInt(transfer.length()), mine);
            if (theirs != null) {
                keep(theirs.handle(), theirs.size());
            }
        }
    }
}
