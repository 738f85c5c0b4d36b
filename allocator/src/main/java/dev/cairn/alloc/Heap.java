package dev.cairn.alloc;

/**
 * A thread's heap: the same operations as {@link Allocator}, without the per-call thread-local lookup. Get it with
 * {@link Allocator#heap()} and keep it in a local variable for hot loops. A platform thread's heap belongs to the
 * thread that got it: in checked mode another thread's use throws {@link WrongThreadException}. The heap a virtual
 * thread gets is the allocator's shared view for virtual threads, which locks one of its heaps for each call and may
 * be used from any thread. {@link #free} accepts any block of the allocator, whichever heap allocated it.
 */
public interface Heap {

    long malloc(long size);

    void free(long address);

    long calloc(long count, long size);

    long mallocAligned(long size, long alignment);

    long realloc(long address, long newSize);

    long usableSize(long address);

    /**
     * {@link Allocator#freeDelayed(long)} with this heap's batch of delayed frees: the same contract (the block is
     * freed once every thread of the allocator's QSBR domain has passed a quiescent point; bad addresses throw as
     * there), without finding the calling thread's heap again for each call. On another thread than the heap's own,
     * on a virtual thread's shared heap, or on a heap of another tag than 0, it is exactly
     * {@code Allocator.freeDelayed}.
     */
    void freeDelayed(long address);

    /**
     * Gives this heap up, on its own thread: its segments that hold live blocks go to the allocator's abandoned pool
     * (other threads of the same allocator adopt them), empty ones back to the OS. Blocks it handed out stay valid
     * and may be freed by any thread. Using this heap afterwards throws {@link IllegalStateException}; the thread's
     * next call through the {@link Allocator} gets a new heap. Idempotent; on a virtual thread's shared heap it does
     * nothing, as nothing is held between calls.
     *
     * @throws WrongThreadException when called from a thread other than the heap's own
     * @throws IllegalStateException once the allocator is closed, as every later call
     */
    void release();
}
