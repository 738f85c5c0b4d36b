package dev.cairn.bench.alloc;

import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.bench.support.MallocPeer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Two threads freeing each other's blocks, in three shapes.
 *
 * <ul>
 *   <li>{@code pingPong}: each thread allocates a block (64 to 1024 bytes), hands it to the other through a
 *       single-producer single-consumer ring, and frees what the other handed it. Nearly every free is a
 *       cross-thread free. Score: ns per operation of one thread (one malloc plus, in steady state, one remote free).
 *       Every block crosses through a ring slot, whose cache line moves between the cores twice per block: that
 *       handoff, the same for every peer, is most of the figure.
 *   <li>{@code batchSwap}: each thread allocates a batch of {@value #BATCH} blocks (64 to 1024 bytes), hands the
 *       batch to the other through a ring of batches, and frees the batch the other handed it, as producer and
 *       consumer stages of a pipeline pass work in batches. The handoff is paid once per batch, so the figure is
 *       the allocator's: a malloc and a cross-thread free per block. Score: ns per block of one thread. glibc's
 *       per-thread cache keeps up to 7 freed blocks per size class for the thread that freed them, which then
 *       allocates them again: a batch this small never goes back to the thread that allocated it.
 *   <li>{@code largeBatchSwap}: the same with batches of {@value #LARGE_BATCH} blocks, more than glibc's
 *       per-thread cache holds, so its frees reach the arena of the thread that allocated the block (as in
 *       xmalloc-test).
 * </ul>
 *
 * <p>In {@code pingPong} a ring that is full (the other thread is behind, or descheduled) makes the producer free its
 * own block, so some frees are local, and more of them for the faster peer. The batch swaps instead wait for room,
 * freeing what the other thread sends meanwhile, so every block is freed by the other thread (except where a wait
 * outlasts {@code SPIN_LIMIT} spins: the other thread has stopped at the end of an iteration).
 */
@State(Scope.Group)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class CrossThreadFreeBenchmark {

    private static final int RING = 1024;
    static final int BATCH = 64;
    static final int LARGE_BATCH = 1024;
    private static final int BATCH_RING = 16;
    private static final int SPIN_LIMIT = 1 << 16;

    @Param({"cairn-checked", "cairn-unchecked", "glibc", "glibc-plain"})
    public String peer;

    private MallocPeer allocator;
    private Ring leftToRight;
    private Ring rightToLeft;
    private BatchRing batchesLeftToRight;
    private BatchRing batchesRightToLeft;

    /** SPSC ring of addresses; 0 is an empty slot. */
    static final class Ring {
        private final AtomicLongArray slots = new AtomicLongArray(RING);
        private int head;
        private int tail;

        boolean offer(long address) {
            int index = tail & (RING - 1);
            if (slots.getAcquire(index) != 0) {
                return false;
            }
            slots.setRelease(index, address);
            tail++;
            return true;
        }

        long poll() {
            int index = head & (RING - 1);
            long address = slots.getAcquire(index);
            if (address != 0) {
                slots.setRelease(index, 0);
                head++;
            }
            return address;
        }
    }

    /** SPSC ring of batches of addresses; null is an empty slot. */
    static final class BatchRing {
        private final AtomicReferenceArray<long[]> slots = new AtomicReferenceArray<>(BATCH_RING);
        private int head;
        private int tail;

        boolean offer(long[] batch) {
            int index = tail & (BATCH_RING - 1);
            if (slots.getAcquire(index) != null) {
                return false;
            }
            slots.setRelease(index, batch);
            tail++;
            return true;
        }

        long[] poll() {
            int index = head & (BATCH_RING - 1);
            long[] batch = slots.getAcquire(index);
            if (batch != null) {
                slots.setRelease(index, null);
                head++;
            }
            return batch;
        }
    }

    @Setup(Level.Iteration)
    public void setUp() {
        if (allocator == null) {
            allocator = MallocPeer.create(peer);
        }
        leftToRight = new Ring();
        rightToLeft = new Ring();
        batchesLeftToRight = new BatchRing();
        batchesRightToLeft = new BatchRing();
    }

    @TearDown(Level.Iteration)
    public void drain() {
        for (Ring ring : new Ring[] {leftToRight, rightToLeft}) {
            for (int i = 0; i < RING; i++) {
                long address = ring.slots.get(i);
                if (address != 0) {
                    allocator.free(address);
                }
            }
        }
        for (BatchRing ring : new BatchRing[] {batchesLeftToRight, batchesRightToLeft}) {
            for (int i = 0; i < BATCH_RING; i++) {
                long[] batch = ring.slots.get(i);
                if (batch != null) {
                    freeAll(batch);
                }
            }
        }
    }

    @TearDown
    public void tearDown() {
        allocator.close();
    }

    private long step(Ring out, Ring in, long size) {
        long p = allocator.malloc(size);
        if (!out.offer(p)) {
            allocator.free(p);
        }
        long q = in.poll();
        if (q != 0) {
            allocator.free(q);
        }
        return p;
    }

    @Benchmark
    @Group("pingPong")
    @GroupThreads(1)
    public long left(ThreadSize size) {
        return step(leftToRight, rightToLeft, size.next());
    }

    @Benchmark
    @Group("pingPong")
    @GroupThreads(1)
    public long right(ThreadSize size) {
        return step(rightToLeft, leftToRight, size.next());
    }

    private void freeAll(long[] batch) {
        for (long address : batch) {
            allocator.free(address);
        }
    }

    /** One batch out, one batch in (when the other thread has sent one); returns a block for the blackhole. */
    private long swap(BatchRing out, BatchRing in, ThreadBatch mine, int size) {
        long[] batch = mine.take(size);
        for (int i = 0; i < size; i++) {
            batch[i] = allocator.malloc(mine.nextSize());
        }
        long first = batch[0];
        // Wait for room, freeing what comes in meanwhile (so two waiting threads make room for each other); a wait
        // that outlasts SPIN_LIMIT (the other thread stopped at the end of an iteration) frees the batch here.
        for (int spins = 0; !out.offer(batch); spins++) {
            long[] received = in.poll();
            if (received != null) {
                freeAll(received);
                mine.keep(received);
            } else if (spins >= SPIN_LIMIT) {
                freeAll(batch);
                mine.keep(batch);
                break;
            } else {
                Thread.onSpinWait();
            }
        }
        long[] received = in.poll();
        if (received != null) {
            freeAll(received);
            mine.keep(received);
        }
        return first;
    }

    @Benchmark
    @Group("batchSwap")
    @GroupThreads(1)
    @OperationsPerInvocation(BATCH)
    public long batchLeft(ThreadBatch mine) {
        return swap(batchesLeftToRight, batchesRightToLeft, mine, BATCH);
    }

    @Benchmark
    @Group("batchSwap")
    @GroupThreads(1)
    @OperationsPerInvocation(BATCH)
    public long batchRight(ThreadBatch mine) {
        return swap(batchesRightToLeft, batchesLeftToRight, mine, BATCH);
    }

    @Benchmark
    @Group("largeBatchSwap")
    @GroupThreads(1)
    @OperationsPerInvocation(LARGE_BATCH)
    public long largeBatchLeft(ThreadBatch mine) {
        return swap(batchesLeftToRight, batchesRightToLeft, mine, LARGE_BATCH);
    }

    @Benchmark
    @Group("largeBatchSwap")
    @GroupThreads(1)
    @OperationsPerInvocation(LARGE_BATCH)
    public long largeBatchRight(ThreadBatch mine) {
        return swap(batchesRightToLeft, batchesLeftToRight, mine, LARGE_BATCH);
    }

    /**
     * Per-thread batch arrays and size sequence (64 to 1024 bytes). Arrays travel with their batches; a thread keeps
     * those it freed, so the two threads trade arrays and allocate new ones only at the start.
     */
    @State(Scope.Thread)
    public static class ThreadBatch {
        private final ArrayDeque<long[]> spare = new ArrayDeque<>();
        private int counter;

        long[] take(int size) {
            long[] batch = spare.poll();
            return batch != null ? batch : new long[size];
        }

        void keep(long[] batch) {
            spare.push(batch);
        }

        long nextSize() {
            counter++;
            return 64 + ((counter * 0x9E3779B1L) >>> 22 & 960);
        }
    }

    /** Per-thread size sequence: 64 to 1024 bytes. */
    @State(Scope.Thread)
    public static class ThreadSize {
        private int counter;

        long next() {
            counter++;
            return 64 + ((counter * 0x9E3779B1L) >>> 22 & 960);
        }
    }
}
