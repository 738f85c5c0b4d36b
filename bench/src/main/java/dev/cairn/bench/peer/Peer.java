package dev.cairn.bench.peer;

/**
 * One allocator under test. Workloads never call a peer directly: each thread first takes its own
 * {@link PeerThread} with {@link #forThread()} and runs its loop on that, which is how a user keeps per-thread state
 * (a Cairn {@code Heap}, a free-slot cache) out of the hot path. Blocks are named by {@code long} handles: the
 * address for peers that hand out raw memory, an index into a table for peers that hand out objects (see
 * {@link HandleTable}), so every peer runs the same workload code.
 */
public interface Peer extends AutoCloseable {

    /** The short name used on the command line and in reports, e.g. {@code cairn-checked}. */
    String name();

    /** A view for the calling thread; use it on that thread only, and {@link PeerThread#detach()} it at the end. */
    PeerThread forThread();

    /** Releases what the peer holds (allocators, pools). Blocks still live are the workload's leak. */
    @Override
    void close();
}
