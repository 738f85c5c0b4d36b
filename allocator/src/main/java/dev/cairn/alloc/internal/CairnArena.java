package dev.cairn.alloc.internal;

import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An {@link Arena} over a heap of its own (mimalloc's heap destroy): allocations are blocks of that heap, zeroed as
 * the JDK's arenas zero theirs, handed out as segments whose lifetime is a JDK arena's scope; {@link #close()} first
 * closes that scope (so no segment is usable any more), then gives every segment of the heap back at once.
 *
 * <p>Confined ({@link dev.cairn.alloc.Allocator#newArena()}): the scope is {@link Arena#ofConfined()}'s, allocating
 * and closing from another thread fail as they do there, and the heap is the owner's alone, with no lock.
 *
 * <p>Shared ({@link dev.cairn.alloc.Allocator#newSharedArena()}): the scope is {@link Arena#ofShared()}'s, any thread
 * may allocate and close. Allocations take the heap's lock (a shared heap, as the virtual threads' are); the close
 * ends the scope first, which the JDK makes safe against other threads still using its segments (its handshake),
 * then takes the lock, so no allocation is inside the heap when it is destroyed. An allocation that finds the scope
 * closed throws {@link IllegalStateException}; one racing the close may have taken a block first, which the destroy
 * then gives back with the rest.
 */
final class CairnArena implements Arena {

    private final AllocatorImpl allocator;
    private final HeapImpl heap;
    private final Arena scope;
    /** The thread a confined arena belongs to; {@code null} for a shared one. */
    private final Thread owner;

    CairnArena(AllocatorImpl allocator, HeapImpl heap, boolean shared) {
        this.allocator = allocator;
        this.heap = heap;
        this.scope = shared ? Arena.ofShared() : Arena.ofConfined();
        this.owner = shared ? null : Thread.currentThread();
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0) {
            throw Errors.negativeSize(byteSize);
        }
        AllocatorImpl.checkAlignment(byteAlignment); // before the state, as the JDK's arenas check it
        if (owner == null) {
            return allocateShared(byteSize, byteAlignment);
        }
        if (Thread.currentThread() != owner) {
            // Before the heap is touched: an unchecked heap does not test its thread, and the segment's confined
            // scope refused the call only after the block was taken, racing the owner on the heap and leaking it.
            throw new WrongThreadException("this arena belongs to thread " + owner + ", not to thread "
                    + Thread.currentThread());
        }
        return allocateLocked(byteSize, byteAlignment);
    }

    private MemorySegment allocateShared(long byteSize, long byteAlignment) {
        heap.lock.lock();
        try {
            return allocateLocked(byteSize, byteAlignment);
        } finally {
            heap.lock.unlock();
        }
    }

    /** On the owner's thread, or holding the shared heap's lock. */
    private MemorySegment allocateLocked(long byteSize, long byteAlignment) {
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
            scope.close(); // throws WrongThreadException / IllegalStateException as the JDK's arena of its kind does
        } finally {
            // A cleanup action (MemorySegment.reinterpret) that throws is thrown after the scope has closed: the
            // heap goes all the same. Only the owner can have closed a confined one; destroy ignores a heap already
            // ended. A shared one waits for the allocation holding the lock, if any.
            if ((owner == null || Thread.currentThread() == owner) && !scope.scope().isAlive()) {
                destroyHeap();
            }
        }
    }

    /** A shared arena's heap goes under its lock, so no allocation is inside it meanwhile; a confined one has none. */
    private void destroyHeap() {
        HeapLock lock = heap.lock;
        if (lock != null) {
            lock.lock();
        }
        try {
            allocator.arenaClosed(this);
            allocator.registry().destroy(heap);
        } finally {
            if (lock != null) {
                lock.unlock();
            }
        }
    }

    /** The thread a confined arena is confined to; {@code null} for a shared arena, which any thread may close. */
    Thread owner() {
        return owner;
    }

    /** The allocator closes a confined arena on its owner's thread, a shared one on any: segments die first. */
    void closeScopeForAllocator() {
        if (scope.scope().isAlive()) {
            scope.close();
        }
    }
}
