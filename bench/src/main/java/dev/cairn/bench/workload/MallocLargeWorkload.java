package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.List;

/**
 * malloc-large (mimalloc-bench's {@code malloc-large.cpp}): a thread keeps a few slots of big buffers and, again and
 * again, replaces a random one with a new buffer of a random size between 5 and 25 MiB. The original zeroes each new
 * buffer ({@code make_unique<char[]>}); here one byte per {@code stride} bytes is written, which faults in every page
 * just the same without timing a memset. So it measures what an allocator does with blocks far above its page
 * sizes: whether it maps and unmaps each one (page faults every time) or keeps and reuses the memory. Per thread, one
 * thread by default.
 */
public final class MallocLargeWorkload extends AbstractWorkload {
    private static final long SEED = 0x1A26EL;
    private static final int MIB = 1 << 20;

    private static final List<ParamSpec> PARAMS = List.of(
            new ParamSpec("iterations", "buffers allocated per thread", 8, 200, 2000, 1, Long.MAX_VALUE),
            new ParamSpec("buffers", "slots of live buffers per thread", 4, 20, 20, 1, 1 << 16),
            // Not minSize/maxSize: a global --param maxSize=2000 meant for the small-block workloads must not hit these.
            new ParamSpec("minBuffer", "smallest buffer, bytes", 5L * MIB, 5L * MIB, 5L * MIB, 1, 1L << 30),
            new ParamSpec("maxBuffer", "largest buffer, bytes", 25L * MIB, 25L * MIB, 25L * MIB, 1, 1L << 30),
            new ParamSpec("stride", "bytes between the bytes written in each new buffer (4096: every page)", 4096,
                    4096, 4096, 1, 1L << 30));

    public MallocLargeWorkload() {
        super("malloc-large",
                "malloc-large: a few live buffers of 5-25 MiB, one replaced at random each step, every page written",
                1, SAME_THREAD, PARAMS);
    }

    @Override
    public WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException {
        long iterations = params.get("iterations");
        int buffers = params.getInt("buffers");
        int minSize = params.getInt("minBuffer");
        int maxSize = checkedMax(minSize, params.getInt("maxBuffer"));
        long stride = params.get("stride");
        Tally total = new Tally();
        long elapsed = runThreads(peer, threads, total, (index, view, tally) -> {
            SplitMix64 random = new SplitMix64(SEED + index);
            long[] handles = new long[buffers];
            int[] sizes = new int[buffers];
            for (long i = 0; i < iterations; i++) {
                int slot = random.nextInt(buffers);
                int size = minSize + random.nextInt(maxSize - minSize + 1);
                if (handles[slot] != 0) {
                    BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                }
                sizes[slot] = size;
                handles[slot] = BlockCheck.mallocFilled(view, size, tally);
                touch(view, handles[slot], size, stride);
            }
            for (int slot = 0; slot < buffers; slot++) {
                if (handles[slot] != 0) {
                    BlockCheck.checkAndFree(view, handles[slot], sizes[slot], tally);
                }
            }
        });
        return WorkloadResult.of(elapsed, iterations * threads, total);
    }

    /**
     * Writes one byte every {@code stride} bytes between the first and the last byte (which hold the block's check
     * tags and are left alone).
     */
    static void touch(PeerThread view, long handle, long size, long stride) {
        for (long offset = stride; offset < size - 1; offset += stride) {
            view.putByte(handle, offset, (byte) 1);
        }
    }
}
