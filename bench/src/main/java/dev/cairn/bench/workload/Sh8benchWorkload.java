package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * sh8bench-like (SmartHeap's multi-threaded successor of sh6bench, in mimalloc-bench). Each thread fills a ring of
 * slots round after round, each round a run of blocks of one size taken in turn from a fixed histogram (8 B to
 * 165 KiB, small ones by far the most); when the ring is full it frees the part below a kept window oldest first and
 * the part above it newest first, and the kept window moves on. Meanwhile the main thread allocates a stream of 8-byte
 * "foreign" blocks, all alike, and the threads free them as they appear (at the start of every round), each thread
 * its share: cross-thread frees of one size class, arriving while the owner keeps allocating.
 */
public final class Sh8benchWorkload extends AbstractWorkload {
    private static final long[] HISTOGRAM_SIZES = {8, 16, 48, 72, 148, 200, 520, 1056, 4096, 9162, 34562, 168524};
    private static final int[] HISTOGRAM_COUNTS = {1000, 5000, 1000, 100, 100, 100, 10, 5, 3, 1, 1, 1};
    private static final int FOREIGN_SIZE = 8;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("rounds", "runs of one size per thread", 24, 1200, 12_000, 1, Long.MAX_VALUE),
            new ParamSpec("slots", "ring of live blocks per thread", 2000, 20_000, 100_000, 5, 1 << 24),
            new ParamSpec("foreign", "8-byte blocks the main thread allocates for the threads to free", 2000,
                    200_000, 2_000_000, 0, 1 << 28));

    public Sh8benchWorkload() {
        super("sh8bench",
                "sh8bench-like: sh6bench's FIFO/LIFO frees over a ring, plus main-thread blocks freed by the threads",
                2, CROSS_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long rounds = params.get("rounds");
        int slots = params.getInt("slots");
        int foreignCount = params.getInt("foreign");
        AtomicLongArray foreign = new AtomicLongArray(foreignCount); // 0: not allocated yet, or already freed
        Tally total = new Tally();
        PeerThread main = peer.forThread();
        Tally mainTally = new Tally();
        long elapsed = runThreads(peer, threads + 1, total, (index, view, tally) -> {
            if (index == threads) { // the original's main thread: here a thread of its own, timed with the others
                for (int i = 0; i < foreignCount; i++) {
                    foreign.set(i, BlockCheck.mallocFilled(view, FOREIGN_SIZE, tally));
                }
                return;
            }
            Ring ring = new Ring(view, slots, tally);
            int nextForeign = index;
            for (long round = 0; round < rounds; round++) {
                nextForeign = freeForeign(view, foreign, nextForeign, threads, tally);
                int kind = (int) ((round + 1) % HISTOGRAM_SIZES.length);
                ring.allocate(HISTOGRAM_SIZES[kind], HISTOGRAM_COUNTS[kind]);
            }
            ring.freeAll();
        });
        // Foreign blocks the threads did not reach (they finished first) are freed here, untimed.
        for (int i = 0; i < foreignCount; i++) {
            long handle = foreign.getAndSet(i, 0);
            if (handle != 0) {
                BlockCheck.checkAndFree(main, handle, FOREIGN_SIZE, mainTally);
            }
        }
        main.detach();
        total.add(mainTally);
        return WorkloadResult.of(elapsed, total.mallocs(), total);
    }

    /**
     * Frees this thread's share of the foreign blocks (every {@code threads}-th, from its index on) as far as they
     * have been allocated; returns where to go on next round.
     */
    private static int freeForeign(PeerThread view, AtomicLongArray foreign, int next, int threads, Tally tally) {
        while (next < foreign.length()) {
            long handle = foreign.getAndSet(next, 0);
            if (handle == 0) {
                return next; // not allocated yet: the main thread is behind
            }
            BlockCheck.checkAndFree(view, handle, FOREIGN_SIZE, tally);
            next += threads;
        }
        return next;
    }

    /** sh8bench's ring: filled in order around a kept window that moves on each time the ring wraps. */
    private static final class Ring {
        private final PeerThread view;
        private final long[] handles;
        private final long[] sizes;
        private final Tally tally;
        private int next;
        private int keepStart;
        private int keepEnd;

        Ring(PeerThread view, int slots, Tally tally) {
            this.view = view;
            this.handles = new long[slots];
            this.sizes = new long[slots];
            this.tally = tally;
            this.keepStart = slots;
            this.keepEnd = slots;
        }

        void allocate(long size, int count) {
            int n = handles.length;
            for (int c = 0; c < count; c++) {
                if (next == keepStart) {
                    next = keepEnd;
                }
                if (next >= n) {
                    wrap();
                } else { // as in the original, the step that wraps allocates nothing
                    sizes[next] = size;
                    handles[next++] = BlockCheck.mallocFilled(view, size, tally);
                }
            }
        }

        /** Moves the kept window on; frees below it oldest first and above it newest first. */
        private void wrap() {
            int n = handles.length;
            keepStart = keepEnd >= n ? 0 : keepEnd;
            keepEnd = Math.min(n, keepStart + n / 5);
            for (int i = 0; i < keepStart; i++) {
                free(i);
            }
            for (int i = n - 1; i >= keepEnd; i--) {
                free(i);
            }
            next = 0;
        }

        void freeAll() {
            for (int i = 0; i < handles.length; i++) {
                free(i);
            }
        }

        private void free(int slot) {
            if (handles[slot] != 0) {
                BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                handles[slot] = 0;
            }
        }
    }
}
