package dev.cairn.alloc.internal;

import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An {@link Arena} over a heap of its own (mimalloc's heap destroy): allocations are blocks of that heap, zeroed as
 * the JDK's arenas zero theirs, handed out as segments whose lifetime is a confined JDK arena's scope;
 * {@link #close()} first closes that scope (so no segment is usable any more, and closing from another thread fails
 * like {@code Arena.ofConfined()}), then gives every segment of the heap back at once.
 */
final class CairnArena implements Arena {

    private final AllocatorImpl allocator;
    private final HeapImpl heap;
    private final Arena scope = Arena.ofConfined();
    private final Thread owner = Thread.currentThread();

    CairnArena(AllocatorImpl allocator, HeapImpl heap) {
        this.allocator = allocator;
        this.heap = heap;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0) {
            throw Errors.negativeSize(byteSize);
        }
        AllocatorImpl.checkAlignment(byteAlignment); // before the state, as the JDK's arenas check it
        if (Thread.currentThread() != owner) {
            // Before the heap is touched: an unchecked heap does not test its thread, and the segment's confined
            // scope refused the call only after the block was taken, racing the owner on the heap and leaking it.
            throw new WrongThreadException("this arena belongs to thread " + owner + ", not to thread "
                    + Thread.currentThread());
        }
        if (!scope.scope().isAlive()) {
            throw new IllegalStateException("this arena is closed");
        }
        long address = allocator.zeroNew(heap.mallocAligned(byteSize, byteAlignment), byteSize, byteAlignment);
        return Raw.segment(address, byteSize, scope);
    }

    /** The arena's own heap (its reaping, when its thread ended with it open). */
    HeapImpl heap() {
        return heap;
    }

    @Override
    public MemorySegment.Scope scope() {
        return scope.scope();
    }

    @Override
    public void close() {
        try {
            scope.close(); // throws WrongThreadException / IllegalStateException as a confined arena does
        } finally {
            // A cleanup action (MemorySegment.reinterpret) that throws is thrown after the scope has closed: the
            // heap goes all the same. Only the owner can have closed it; destroy ignores a heap already ended.
            if (Thread.currentThread() == owner && !scope.scope().isAlive()) {
                allocator.arenaClosed(this);
                allocator.registry().destroy(heap);
            }
        }
    }

    /** The thread the arena is confined to: the only one that can close its scope or touch its segments. */
    Thread owner() {
        return owner;
    }

    /** The allocator closes on the owner's thread: the segments die before the memory under them is unmapped. */
    void closeScopeForAllocator() {
        if (scope.scope().isAlive()) {
            scope.close();
        }
    }
}
