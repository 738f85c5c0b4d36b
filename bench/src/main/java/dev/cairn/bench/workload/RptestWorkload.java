package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * rptest-like (rpmalloc's benchmark, in mimalloc-bench): each thread keeps a ring of slots and runs loops of a
 * varying number of frees (walking the ring with one prime stride) and then of allocations (another stride,
 * freeing what a slot still holds), sizes 16 B-16 KiB with a linear drop-off, every page of a block written. Every
 * {@code crossRate}-th loop a thread also allocates a batch of blocks and hands it to the next thread, which frees
 * it at the start of its next loop: producer/consumer traffic between all threads, next to a steady thread-local
 * live set. Threads end their loops, free what is handed to them until every thread is done, then free their ring.
 * Unlike the original, at most {@value #MAX_IN_FLIGHT} batches wait for one thread: on two busy cores one thread
 * often runs far ahead of the other, and its unbounded hand-offs (gigabytes) would make time and RSS measure the
 * scheduler, not the allocator. A thread whose target is full frees its own inbox while it waits.
 */
public final class RptestWorkload extends AbstractWorkload {
    private static final long SEED = 0x4B7E57L;
    private static final int PAGE = 4096;
    static final int MAX_IN_FLIGHT = 16;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("loops", "loops per thread", 200, 5_000, 50_000, 1, Long.MAX_VALUE),
            new ParamSpec("slots", "ring of live blocks per thread", 1000, 1000, 1000, 1, 1 << 24),
            // Not "ops": elsewhere that is operations per thread, and a global --param ops=1000000 must not land here.
            new ParamSpec("loopOps", "operations per loop (allocations 30-99% of it, frees 80% of that)", 100, 100,
                    100, 1, 1 << 20),
            new ParamSpec("crossRate", "every n-th loop hands a batch to another thread (0: never)", 2, 2, 2, 0,
                    1 << 20),
            new ParamSpec("minSize", "smallest block, bytes", 16, 16, 16, 1, 1 << 24),
            new ParamSpec("maxSize", "largest block, bytes", 16000, 16000, 16000, 1, 1 << 24));

    /** Blocks handed from one thread to another. */
    private record Batch(long[] handles, int[] sizes) {
    }

    /** The batches handed to one thread, counted (a queue's own size() walks it). */
    private static final class Inbox {
        private final ConcurrentLinkedQueue<Batch> batches = new ConcurrentLinkedQueue<>();
        private final AtomicInteger count = new AtomicInteger();
        /** Set when its owner stops draining (done, or failed): nobody may wait for room any more. */
        private volatile boolean closed;

        void add(Batch batch) {
            batches.add(batch);
            count.incrementAndGet();
        }

        boolean full() {
            return count.get() >= MAX_IN_FLIGHT && !closed;
        }

        void drain(PeerThread view, Tally tally) {
            for (Batch batch = batches.poll(); batch != null; batch = batches.poll()) {
                count.decrementAndGet();
                for (int i = 0; i < batch.handles().length; i++) {
                    BlockCheck.checkAndFree(view, batch.handles()[i], batch.sizes()[i], tally);
                }
            }
        }
    }

    public RptestWorkload() {
        super("rptest",
                "rptest-like: per-thread rings of 16 B-16 KiB blocks, batches handed to the next thread and freed there",
                2, CROSS_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long loops = params.get("loops");
        int slots = params.getInt("slots");
        int ops = params.getInt("loopOps");
        int crossRate = threads > 1 ? params.getInt("crossRate") : 0; // nobody to hand to
        int minSize = params.getInt("minSize");
        int maxSize = checkedMax(minSize, params.getInt("maxSize"));
        Inbox[] inboxes = new Inbox[threads];
        for (int t = 0; t < threads; t++) {
            inboxes[t] = new Inbox();
        }
        CountDownLatch loopsDone = new CountDownLatch(threads);
        Tally total = new Tally();
        long[] operations = new long[threads];
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            Inbox mine = inboxes[index];
            Ring ring = new Ring(view, new SplitMix64(SEED + index), slots, minSize, maxSize, tally);
            boolean counted = false;
            try {
                for (long loop = 0; loop < loops; loop++) {
                    mine.drain(view, tally);
                    Batch handed = ring.loop(ops, crossRate > 0 && loop % crossRate == 0);
                    if (handed != null) {
                        Inbox target = inboxes[(int) ((index + 1 + loop / crossRate % (threads - 1)) % threads)];
                        while (target.full()) { // its owner drains it every loop, and while it waits at the end
                            mine.drain(view, tally);
                            Thread.yield();
                        }
                        target.add(handed);
                    }
                }
                loopsDone.countDown();
                counted = true;
                while (loopsDone.getCount() > 0) { // others may still hand to us, and wait for room
                    mine.drain(view, tally);
                    Thread.yield();
                }
            } finally {
                if (!counted) { // failed: the others must not wait for us, nor for room in our inbox
                    loopsDone.countDown();
                }
                mine.closed = true; // done: nobody hands to us any more
            }
            mine.drain(view, tally);
            ring.freeAll();
            operations[index] = tally.mallocs() + tally.frees();
        });
        long sum = 0;
        for (long n : operations) {
            sum += n;
        }
        return WorkloadResult.of(elapsed, sum, total);
    }

    /** Writes one byte in each page between a block's first and last one, as rptest does to commit its memory. */
    private static void touchPages(PeerThread view, long handle, int size) {
        for (long offset = PAGE; offset < size - 1; offset += PAGE) {
            view.putByte(handle, offset, (byte) 1);
        }
    }

    /** One thread's slots and cursors. */
    private static final class Ring {
        private static final int SIZE_TABLE = 4096;
        private final PeerThread view;
        private final SplitMix64 random;
        private final long[] handles;
        private final int[] sizes;
        private final int[] sizeTable;
        private final int allocStride;
        private final int freeStride;
        private final Tally tally;
        private int allocIndex;
        private int freeIndex;
        private int nextSize;

        Ring(PeerThread view, SplitMix64 random, int slots, int minSize, int maxSize, Tally tally) {
            this.view = view;
            this.random = random;
            this.handles = new long[slots];
            this.sizes = new int[slots];
            this.sizeTable = linearDropOff(random, SIZE_TABLE, minSize, maxSize);
            this.allocStride = coprimeStride(slots, 0);
            this.freeStride = coprimeStride(slots, allocStride);
            this.tally = tally;
        }

        /** One loop: frees, then allocations; with {@code hand}, also a batch for another thread. */
        Batch loop(int ops, boolean hand) {
            int allocs = Math.max(1, (int) ((long) ops * (30 + random.nextInt(70)) / 100));
            int frees = (int) ((long) ops * (30 + random.nextInt(70)) * 8 / 1000);
            for (int i = 0; i < frees; i++) {
                freeSlot(freeIndex);
                freeIndex = (freeIndex + freeStride) % handles.length;
            }
            for (int i = 0; i < allocs; i++) {
                freeSlot(allocIndex);
                int size = size();
                sizes[allocIndex] = size;
                handles[allocIndex] = allocate(size);
                allocIndex = (allocIndex + allocStride) % handles.length;
            }
            if (!hand) {
                return null;
            }
            long[] batch = new long[allocs];
            int[] batchSizes = new int[allocs];
            for (int i = 0; i < allocs; i++) {
                batchSizes[i] = size();
                batch[i] = allocate(batchSizes[i]);
            }
            return new Batch(batch, batchSizes);
        }

        void freeAll() {
            for (int i = 0; i < handles.length; i++) {
                freeSlot(i);
            }
        }

        private long allocate(int size) {
            long handle = BlockCheck.mallocFilled(view, size, tally);
            touchPages(view, handle, size);
            return handle;
        }

        private void freeSlot(int slot) {
            if (handles[slot] != 0) {
                BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                handles[slot] = 0;
            }
        }

        private int size() {
            return sizeTable[nextSize++ & (SIZE_TABLE - 1)];
        }

        /** The smallest prime above {@code after} that does not divide {@code slots} (so the walk visits all). */
        private static int coprimeStride(int slots, int after) {
            for (int p = after + 1; ; p++) {
                if (isPrime(p) && slots % p != 0) {
                    return p;
                }
            }
        }

        private static boolean isPrime(int n) {
            if (n < 2) {
                return false;
            }
            for (int d = 2; (long) d * d <= n; d++) {
                if (n % d == 0) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Sizes in {@code [min, max]} whose density falls linearly from min to zero at max (rptest's size mode 1). */
    static int[] linearDropOff(SplitMix64 random, int count, int min, int max) {
        int[] sizes = new int[count];
        for (int i = 0; i < count; i++) {
            double u = (random.next() >>> 11) * 0x1.0p-53;
            sizes[i] = min + (int) ((max - min) * (1 - Math.sqrt(1 - u)));
        }
        return sizes;
    }
}
