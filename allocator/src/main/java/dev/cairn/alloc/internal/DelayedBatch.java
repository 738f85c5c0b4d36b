package dev.cairn.alloc.internal;

/**
 * A thread's delayed frees gathered before they reach QSBR: {@code freeDelayed} proves and marks the block as
 * before (see {@link DelayedFrees}), then only appends it here; a full batch goes to the thread's QSBR queue as one
 * item ({@code deferHolding}, counting its bytes against the limit) and is freed in one loop when its goal is
 * reached.
 *
 * <p>Why the goal can wait for the batch: a goal read after an unlink is safe for it (readers that pass it have
 * seen the unlink), and a later goal is always safe, only later. The goal is taken once, when the batch is handed
 * over, after every unlink of its blocks in this thread's program order, with the one fence that orders them all.
 * So a delayed free costs no fence and no QSBR call of its own.
 *
 * <p>Confinement: the filling batch belongs to its heap's thread, which hands it over when it is full, at every
 * 16th malloc slow path, at {@code collect()}, when the thread releases its heap, and, for a thread that ended
 * without doing so, when its heap is reaped (by the reaping thread, on its own QSBR handle). Once handed over it
 * belongs to whichever thread runs the due work. Blocks are pending from the mark until the batch has run; the
 * allocator counts the handed-over ones ({@link AllocatorImpl#delayedPending()}) and each heap its filling batch.
 */
final class DelayedBatch implements Runnable {

    /** Blocks per batch: one QSBR item and one fence per this many delayed frees. */
    static final int CAPACITY = 64;
    /** The thread advances and runs its due work after every this many hand-overs (256 blocks of small sizes). */
    static final int PROCESS_EVERY = 4;
    /** A batch is handed over early once it holds this many bytes, so big blocks are not held back for long. */
    static final long MAX_BYTES = 256 << 10;

    /** Not the allocator itself: a batch still queued in QSBR when it closes must not keep it (AllocatorLink). */
    private final AllocatorLink allocator;
    private final long[] addresses = new long[CAPACITY];
    private int count;
    private long bytes;

    DelayedBatch(AllocatorLink allocator) {
        this.allocator = allocator;
    }

    /** Appends a proven, pending block; returns whether the batch should now be handed over. */
    boolean add(long address, long size) {
        addresses[count++] = address;
        bytes += size;
        return count == CAPACITY || bytes >= MAX_BYTES;
    }

    int count() {
        return count;
    }

    long bytes() {
        return bytes;
    }

    /** Frees every block of the batch (its goal is reached), on the thread that runs the due work. */
    @Override
    public void run() {
        AllocatorImpl open = allocator.get();
        if (open != null) { // closed: the blocks went back with every segment
            open.releasePendingBatch(addresses, count);
        }
    }
}
