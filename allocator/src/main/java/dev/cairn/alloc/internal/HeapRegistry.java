package dev.cairn.alloc.internal;

import dev.cairn.alloc.Heap;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The allocator's heaps: which thread has which, how a free finds a heap by id, and how heaps end.
 *
 * <h2>Platform threads</h2>
 * Each gets a heap of its own on first use, found through a {@link ThreadLocal}: the lock-free fast path. Java has
 * no thread-exit hook, so a heap remembers its thread weakly and the registry reaps heaps whose thread is no longer
 * alive ({@link #reapDead}): when a thread takes its first heap, on any heap's malloc slow path (arenas' excepted) at
 * most once per {@link #REAP_INTERVAL_NANOS}, and on every {@code collect()}. Detection latency is therefore "until
 * the next of those events in this allocator", about a millisecond while any thread allocates; its cost is one
 * {@code isAlive()} per registered heap per scan, at most one scan per millisecond. A
 * reaped heap abandons its segments exactly as {@code Heap.release()} does, except an arena's: a thread that ended
 * with an arena open left a heap that nobody can use or close any more (the arena is confined to that thread), so it
 * is destroyed, as the arena's close would have done. Abandoned, its segments (flagged as an arena's) would be
 * adopted by thread heaps, whose blocks in them {@code freeDelayed} would then refuse as arena blocks.
 *
 * <h2>Virtual threads</h2>
 * A heap per virtual thread would mean a heap (and pages half used) per task: 100,000 tasks, 100,000 heaps. Virtual
 * threads instead share a small set of heaps ({@link SharedHeap}), about two per carrier thread, each taken with a
 * try-lock for the length of one call, like Netty's magazines. Their segments carry
 * {@link SegmentLayout#SHARED_OWNER}, so every free of their blocks is a lock-free remote push.
 *
 * <h2>Locking</h2>
 * Registration, release, reaping and close are serialized on this object (rare events). The heap table is copied
 * on write and read without locking by the free slow path.
 */
final class HeapRegistry {

    static final long REAP_INTERVAL_NANOS = 1_000_000;

    private final AllocatorImpl allocator;
    /**
     * Replaced when the allocator closes ({@link #forgetThreads}): another thread's map keeps its entry, whose value
     * (the heap, and through it the allocator and this registry) would keep the key alive and the allocator with it
     * for as long as that thread runs. Once no registry references the old key, the GC clears it.
     */
    private ThreadLocal<HeapImpl> threadHeap = new ThreadLocal<>(); // racy reads are fine: a ThreadLocal is immutable
    private final ConcurrentHashMap<Integer, HeapImpl> heaps = new ConcurrentHashMap<>();
    /** Heaps by id (copy on write under {@code this}; read without locking). Ids are never reused. */
    private volatile HeapImpl[] table = new HeapImpl[16];
    private int nextId = 1;
    private final SharedHeap shared;
    private volatile long lastReapNanos = System.nanoTime();
    private long deadThreadsDetected;
    private long heapsReleased;
    /** Slow-path calls and collected remote frees of heaps that have ended, so cumulative stats do not go down. */
    private long endedSlowPathCalls;
    private long endedRemoteFrees;
    private boolean closed;

    HeapRegistry(AllocatorImpl allocator) {
        this.allocator = allocator;
        this.shared = new SharedHeap(this, sharedHeapCount());
    }

    /** About two heaps per carrier thread of the default virtual-thread scheduler. */
    private static int sharedHeapCount() {
        int carriers = Runtime.getRuntime().availableProcessors();
        String parallelism = System.getProperty("jdk.virtualThreadScheduler.parallelism");
        if (parallelism != null) {
            try {
                carriers = Math.max(1, Integer.parseInt(parallelism.trim()));
            } catch (NumberFormatException ignored) {
                // the JDK rejects it too; keep the processor count
            }
        }
        return Math.max(2, 2 * carriers);
    }

    // ------------------------------------------------------------------------------------------------ lookup

    /** The calling platform thread's heap, or {@code null} (fast path: one thread-local load). */
    HeapImpl threadHeap() {
        return threadHeap.get();
    }

    /** The calling thread's heap: created on a platform thread's first use; the shared view on a virtual thread. */
    Heap currentHeap() {
        HeapImpl heap = threadHeap.get();
        if (heap != null) {
            return heap;
        }
        if (Thread.currentThread().isVirtual()) {
            return shared;
        }
        heap = newHeap(HeapImpl.Role.THREAD);
        threadHeap.set(heap);
        return heap;
    }

    HeapImpl byId(int id) {
        HeapImpl[] heaps = table;
        return id < heaps.length ? heaps[id] : null;
    }

    Iterable<HeapImpl> all() {
        return heaps.values();
    }

    AllocatorImpl allocator() {
        return allocator;
    }

    SharedHeap shared() {
        return shared;
    }

    // ------------------------------------------------------------------------------------------------ lifecycle

    /** A new heap for the calling thread ({@code THREAD}, {@code ARENA}) or the virtual threads ({@code SHARED}). */
    synchronized HeapImpl newHeap(HeapImpl.Role role) {
        allocator.checkOpen();
        int id = nextId++;
        HeapImpl heap = new HeapImpl(allocator, id, role, Thread.currentThread());
        if (role != HeapImpl.Role.SHARED) {
            // A new thread is the usual sign that others have ended. Reaped after the heap is made, so that a dead
            // thread's delayed frees handed to this thread run from the new (thread) heap's slow paths.
            reapDeadLocked(role == HeapImpl.Role.THREAD ? heap : threadHeap.get());
        }
        if (role == HeapImpl.Role.THREAD && heap.delayedHandle == null) {
            // The thread's queue may hold batches of delayed frees already: handed over by its previous heap's
            // release (Heap.release), or by a reap before this heap existed. Its slow paths run them, as the
            // previous heap's did; without the handle they waited for a collect().
            heap.delayedHandle = allocator.currentDelayedHandle();
        }
        heaps.put(id, heap);
        HeapImpl[] copy = Arrays.copyOf(table, id < table.length ? table.length : Math.max(2 * table.length, id + 1));
        copy[id] = heap;
        table = copy;
        return heap;
    }

    /** {@code Heap.release()} on the owner thread: abandon, forget, and let the next call make a new heap. */
    synchronized void release(HeapImpl heap) {
        if (threadHeap.get() == heap) {
            threadHeap.remove();
        }
        if (closed || !heap.tryEnd()) {
            return;
        }
        allocator.handOverDelayed(heap); // its blocks stay pending until their goal; the heap's thread is here
        heap.abandonAll();
        forget(heap);
        heapsReleased++;
    }

    /** An arena's close: every segment of its heap goes back at once. */
    synchronized void destroy(HeapImpl heap) {
        if (closed || !heap.tryEnd()) {
            return;
        }
        forget(heap);
        heap.destroy();
        allocator.heapDestroyed(heap);
    }

    /**
     * Reaps dead threads' heaps unless that was done less than {@link #REAP_INTERVAL_NANOS} ago; returns whether
     * it did.
     */
    boolean maybeReapDead(long now) {
        if (now - lastReapNanos < REAP_INTERVAL_NANOS) {
            return false;
        }
        synchronized (this) {
            // Again under the lock: the threads that saw the interval pass together would each scan in turn.
            if (closed || now - lastReapNanos < REAP_INTERVAL_NANOS) {
                return false;
            }
            reapDeadLocked(threadHeap.get());
            return true;
        }
    }

    /** Abandons the segments of every heap whose thread has ended; returns how many heaps were reaped. */
    synchronized int reapDead() {
        return closed ? 0 : reapDeadLocked(threadHeap.get());
    }

    /**
     * Reaps on behalf of {@code reaper}, the calling thread's heap or null (a virtual thread, or a thread with no
     * heap of this allocator yet): a dead heap's filling batch of delayed frees goes onto this thread's QSBR queue,
     * and the reaper's slow paths must then run that queue as they run their own delayed frees (see
     * AllocatorImpl.delayedFreesOnSlowPath), or a thread that never frees with delay holds them until a collect().
     */
    private int reapDeadLocked(HeapImpl reaper) {
        lastReapNanos = System.nanoTime();
        int reaped = 0;
        for (HeapImpl heap : heaps.values()) {
            if (heap.ownerDead() && heap.tryEnd()) {
                if (heap.role() == HeapImpl.Role.ARENA) { // its thread ended with the arena open: close it
                    allocator.arenaReaped(heap); // before its memory can be another block's
                    forget(heap);
                    heap.destroy();
                    allocator.heapDestroyed(heap);
                    continue;
                }
                // the dead thread's filling batch, onto this thread's QSBR queue
                dev.cairn.reclaim.QsbrThread handed = allocator.handOverDelayed(heap);
                if (handed != null && reaper != null && reaper.role() == HeapImpl.Role.THREAD) {
                    reaper.delayedHandle = handed;
                }
                heap.abandonAll();
                forget(heap);
                reaped++;
            }
        }
        deadThreadsDetected += reaped;
        return reaped;
    }

    /** The allocator's close: every heap is unusable from now on; segments are released by the store. */
    /** The allocator's close, after closeAll: see {@link #threadHeap}. */
    synchronized void forgetThreads() {
        threadHeap.remove();
        threadHeap = new ThreadLocal<>();
    }

    synchronized void closeAll() {
        closed = true;
        for (HeapImpl heap : heaps.values()) {
            heap.closed = true;
        }
    }

    private void forget(HeapImpl heap) {
        heaps.remove(heap.id());
        endedSlowPathCalls += heap.slowPathCalls;
        endedRemoteFrees += heap.remoteFreesCollected;
        HeapImpl[] copy = table.clone();
        copy[heap.id()] = null;
        table = copy;
    }

    // ------------------------------------------------------------------------------------------------ stats

    int liveCount() {
        return heaps.size();
    }

    synchronized long deadThreadsDetected() {
        return deadThreadsDetected;
    }

    synchronized long heapsReleased() {
        return heapsReleased;
    }

    /**
     * Remote frees collected by every heap, ended or live. One hold of the monitor: a heap ending meanwhile (reaped
     * from any thread's slow path) moves its count from the live heaps to the ended total in {@link #forget}, and a
     * sum read in two steps could miss it, and a cumulative stat go down.
     */
    synchronized long remoteFreesCollected() {
        long sum = endedRemoteFrees;
        for (HeapImpl heap : heaps.values()) {
            sum += heap.remoteFreesCollected;
        }
        return sum;
    }

    /** Slow-path calls of every heap, ended or live, in one hold of the monitor (see remoteFreesCollected). */
    synchronized long slowPathCalls() {
        long sum = endedSlowPathCalls;
        for (HeapImpl heap : heaps.values()) {
            sum += heap.slowPathCalls;
        }
        return sum;
    }
}
