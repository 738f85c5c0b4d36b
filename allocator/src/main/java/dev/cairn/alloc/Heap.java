package dev.cairn.alloc;

/**
 * A thread's heap: the same operations as {@link Allocator}, without the per-call thread-local lookup. Get it with
 * {@link Allocator#heap()} and keep it in a local variable for hot loops. It belongs to the thread that got it: in
 * checked mode another thread's use throws {@link WrongThreadException}. {@link #free} accepts any block of the
 * allocator, whichever heap allocated it.
 */
public interface Heap {

    long malloc(long size);

    void free(long address);

    long calloc(long count, long size);

    long mallocAligned(long size, long alignment);

    long realloc(long address, long newSize);

    long usableSize(long address);
}
