package dev.cairn.alloc.internal;

import dev.cairn.alloc.Heap;

/**
 * The heap virtual threads see: a handful of shared {@link HeapImpl}s, one of which is locked for the length of each
 * call. A call tries the heaps with {@code tryLock}, starting at the one of the carrier it runs on ({@link CarrierSlots})
 * and then its spare ({@link #candidate}), and only blocks (on the first one it tried) when all are taken. A virtual
 * thread is not preempted inside a call, so with about two heaps per carrier a try almost always succeeds. A call must
 * not park while it holds a heap where it can help it (the slow path's periodic reap only tries its lock): the parked
 * thread holds the heap until a carrier is free to run it again, which may be when another virtual thread ends.
 *
 * <p>Frees need no heap of the caller's: a checked free of a shared heap's block tries that heap's lock and, with it,
 * frees as its owner; when the heap is busy, and in unchecked mode, it pushes the block remotely
 * ({@code AllocatorImpl.free}, docs/design/allocator.md).
 *
 * <p>{@link #release()} does nothing: nothing is held between calls. Heaps are created on first use and live as
 * long as the allocator.
 */
final class SharedHeap implements Heap {

    private final HeapRegistry registry;
    private final int tag;
    private final java.util.concurrent.atomic.AtomicReferenceArray<HeapImpl> heaps;
    private final CarrierSlots carrierSlots;

    SharedHeap(HeapRegistry registry, int tag, int count) {
        this.registry = registry;
        this.tag = tag;
        this.heaps = new java.util.concurrent.atomic.AtomicReferenceArray<>(count);
        this.carrierSlots = new CarrierSlots(count);
    }

    @Override
    public long malloc(long size) {
        HeapImpl heap = acquire();
        try {
            return heap.malloc(size);
        } finally {
            heap.lock.unlock();
        }
    }

    @Override
    public long calloc(long count, long size) {
        HeapImpl heap = acquire();
        try {
            return heap.calloc(count, size);
        } finally {
            heap.lock.unlock();
        }
    }

    @Override
    public long mallocAligned(long size, long alignment) {
        HeapImpl heap = acquire();
        try {
            return heap.mallocAligned(size, alignment);
        } finally {
            heap.lock.unlock();
        }
    }

    @Override
    public long realloc(long address, long newSize) {
        HeapImpl heap = acquire();
        try {
            return heap.realloc(address, newSize);
        } finally {
            heap.lock.unlock();
        }
    }

    @Override
    public void free(long address) {
        registry.allocator().free(address);
    }

    @Override
    public long usableSize(long address) {
        return registry.allocator().usableSize(address);
    }

    @Override
    public void freeDelayed(long address) {
        registry.allocator().freeDelayed(address); // a virtual thread's delayed frees are QSBR items of their own
    }

    @Override
    public void release() {
        registry.allocator().checkOpen(); // as every call after close() (Heap#release)
        // nothing to give back: a shared heap is held only for the length of one call
    }

    /** Locks and returns one of the shared heaps. */
    private HeapImpl acquire() {
        // The carrier's heap first (CarrierSlots): the virtual threads that run on one carrier share its pages, and
        // carriers do not pull each other's heaps' lines or contend for their locks.
        int start = carrierSlots.current();
        for (int n = 0; n < heaps.length(); n++) {
            HeapImpl heap = heap(candidate(start, n));
            if (heap.lock.tryLock()) {
                return heap;
            }
        }
        HeapImpl heap = heap(start);
        heap.lock.lock();
        return heap;
    }

    /**
     * The {@code n}th heap a call that starts at {@code start} tries: the carrier's, then its spare (half the heaps
     * on), then the next heap and its spare, and so on. The carrier's heap is busy mostly when a virtual thread parked
     * inside a call holding it (a slow path that waited for a lock) and waits for a carrier to run again: the carrier's
     * other virtual threads then use its spare, which no other carrier starts at, instead of contending for the next
     * carrier's heap (a plain walk: 4 virtual threads on 2 carriers, 46% of calls missed their first heap, and the
     * rounds where it happened ran 4x slower).
     */
    private int candidate(int start, int n) {
        int count = heaps.length();
        if ((count & 1) != 0) {
            return (start + n) % count;
        }
        return (start + (n >> 1) + (n & 1) * (count >> 1)) % count;
    }

    private HeapImpl heap(int slot) {
        HeapImpl heap = heaps.get(slot);
        if (heap == null) {
            synchronized (this) {
                heap = heaps.get(slot);
                if (heap == null) {
                    heap = registry.newHeap(HeapImpl.Role.SHARED, tag);
                    heaps.set(slot, heap);
                }
            }
        }
        return heap;
    }

    /** Runs {@code action} on each shared heap created so far, under its lock. */
    void forEachLocked(java.util.function.Consumer<HeapImpl> action) {
        for (int slot = 0; slot < heaps.length(); slot++) {
            HeapImpl heap = heaps.get(slot);
            if (heap != null) {
                heap.lock.lock();
                try {
                    action.accept(heap);
                } finally {
                    heap.lock.unlock();
                }
            }
        }
    }
}
