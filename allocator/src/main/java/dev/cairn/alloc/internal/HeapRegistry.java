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
 * most once per {@link #REAP_INTERVAL_NANOS} (skipped while another thread holds the registry's lock), and on every
 * {@code collect()}. Detection latency is therefore "until
 * the next of those events in this allocator", about a millisecond while any thread allocates; its cost is one
 * {@code isAlive()} per registered heap per scan, at most one scan per millisecond. A
 * reaped heap abandons its segments exactly as {@code Heap.release()} does, except an arena's: a thread that ended
 * with an arena open left a heap that nobody can use or close any more (the arena is confined to that thread), so it
 * is destroyed, as the arena's close would have done. Abandoned, its segments (flagged as an arena's) would be
 * adopted by thread heaps, whose blocks in them {@code freeDelayed} would then refuse as arena blocks.
 *
 * <h2>Tags</h2>
 * A thread has one heap per heap tag it uses ({@code Allocator.heap(int)}). Tag 0 is the heap every plain
 * {@code malloc} uses: it keeps a thread-local of its own, so the fast path reads one thread-local as before; the
 * other tags share a second one, an array by tag. Virtual threads have a {@link SharedHeap} per tag. Reaping and
 * {@code releaseCurrentThread} end every tag's heap of a thread.
 *
 * <h2>Virtual threads</h2>
 * A heap per virtual thread would mean a heap (and pages half used) per task: 100,000 tasks, 100,000 heaps. Virtual
 * threads instead share a small set of heaps ({@link SharedHeap}), about two per carrier thread, each taken with a
 * try-lock for the length of one call, like Netty's magazines. Their segments carry
 * {@link SegmentLayout#SHARED_OWNER} and their map entries name the heap: a checked free of their blocks takes the
 * heap's lock if it is free and frees as its owner, else (and every unchecked free) pushes remotely, lock-free.
 *
 * <h2>Locking</h2>
 * Registration, release, reaping and close are serialized on {@link #lock} (rare events). The heap table is written
 * under it (entries with release stores; a copy only to grow) and read without locking by the free slow path.
 *
 * <h2>Heap ids</h2>
 * An ended heap's id goes back to a free list and the next heap takes it, so the table is as long as the most heaps
 * ever live at once, not as the number of heaps ever made (a service starting a thread per request made millions,
 * and every start and end copied the whole table: 16 KB of Java allocation per heap after 32,000 heaps). Reuse is
 * safe because a normal segment's id is looked up only by the thread that owns the segment ({@code SEG_OWNER_TID}
 * is its own id), whose heap is live: an ended heap's normal segments were abandoned (heap id 0) or released first.
 * A huge block's release looks its heap up from any thread, and then only removes the segment from that heap's
 * huge set, which a newer heap with the same id does not hold. An ended heap's sampled blocks are moved to heap 0
 * ({@link SiteSampler#orphanHeap}).
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
    /** The thread's heaps of tags 1 and up, by tag (replaced at close like {@link #threadHeap}). */
    private ThreadLocal<HeapImpl[]> taggedHeaps = new ThreadLocal<>();
    private final ConcurrentHashMap<Integer, HeapImpl> heaps = new ConcurrentHashMap<>();
    /** Heaps by id (entries written under {@code this} with release stores; read without locking). */
    private static final int BATCH_SLOTS = 256;
    private static final java.lang.invoke.VarHandle BATCH_SLOT =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(HeapImpl[].class);
    /** Tag-0 thread heaps by thread id modulo {@link #BATCH_SLOTS}: see {@link #batchHeap}. Written under this. */
    private final HeapImpl[] batchHeaps = new HeapImpl[BATCH_SLOTS];

    private volatile HeapImpl[] table = new HeapImpl[16];
    private static final java.lang.invoke.VarHandle ENTRY =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(HeapImpl[].class);
    private int nextId = 1;
    /** Ids of ended heaps, for reuse (under {@link #lock}). */
    private int[] freeIds = new int[16];
    private int freeIdCount;
    /** Virtual threads' heaps by tag; tag 0's made at once, the others on first use (under {@link #lock}). */
    private final SharedHeap[] shared = new SharedHeap[dev.cairn.alloc.Allocator.HEAP_TAGS];
    private final int sharedHeapCount = sharedHeapCount();
    /**
     * Serializes registration, release, reaping and close (see "Locking"). A lock rather than this object's monitor so
     * that the slow path's periodic reap can try it ({@link #maybeReapDead}).
     */
    final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    private volatile long lastReapNanos = System.nanoTime();
    private static final java.lang.invoke.VarHandle LAST_REAP;

    static {
        try {
            LAST_REAP = java.lang.invoke.MethodHandles.lookup().findVarHandle(HeapRegistry.class, "lastReapNanos",
                    long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long deadThreadsDetected;
    private long heapsReleased;
    /** Slow-path calls and collected remote frees of heaps that have ended, so cumulative stats do not go down. */
    private long endedSlowPathCalls;
    private long endedRemoteFrees;
    private boolean closed;

    HeapRegistry(AllocatorImpl allocator) {
        this.allocator = allocator;
        this.shared[0] = new SharedHeap(this, 0, sharedHeapCount);
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

    /**
     * The calling platform thread's heap, or {@code null}. Fast path: the slot of {@link #batchHeaps} its id maps to
     * (one array load and one compare: a heap is there from its creation until it is forgotten, and thread ids are
     * never reused), else the thread-local, whose lookup (a hash probe through the thread's map) cost
     * {@code Allocator.malloc} about 5 ns against a held heap under JMH (docs/benchmarks.md).
     */
    HeapImpl threadHeap() {
        HeapImpl heap = batchHeap(Thread.currentThread().threadId());
        return heap != null ? heap : threadHeap.get();
    }

    /** The calling platform thread's heap of {@code tag} if it has one (none is made), else null. */
    HeapImpl existingThreadHeap(int tag) {
        if (tag == 0) {
            return threadHeap();
        }
        HeapImpl[] tagged = taggedHeaps.get();
        return tagged == null ? null : tagged[tag];
    }

    /** The calling thread's heap: created on a platform thread's first use; the shared view on a virtual thread. */
    Heap currentHeap() {
        HeapImpl heap = threadHeap();
        if (heap != null) {
            return heap;
        }
        if (Thread.currentThread().isVirtual()) {
            return shared[0];
        }
        heap = newHeap(HeapImpl.Role.THREAD, 0);
        threadHeap.set(heap);
        return heap;
    }

    /** {@link #currentHeap()} for any tag; the caller has checked that the tag is in range. */
    Heap currentHeap(int tag) {
        if (tag == 0) {
            return currentHeap();
        }
        HeapImpl[] tagged = taggedHeaps.get();
        if (tagged != null && tagged[tag] != null) {
            return tagged[tag];
        }
        if (Thread.currentThread().isVirtual()) {
            return shared(tag);
        }
        HeapImpl heap = newHeap(HeapImpl.Role.THREAD, tag);
        if (tagged == null) {
            tagged = new HeapImpl[dev.cairn.alloc.Allocator.HEAP_TAGS];
            taggedHeaps.set(tagged);
        }
        tagged[tag] = heap;
        return heap;
    }

    /** Every heap registered now, a snapshot (heaps may end while the caller looks at them). */
    java.util.List<HeapImpl> allHeaps() {
        return new java.util.ArrayList<>(heaps.values());
    }

    /** The calling platform thread's heaps, every tag's it has (tag 0 first); empty on a virtual thread. */
    java.util.List<HeapImpl> threadHeaps() {
        java.util.List<HeapImpl> out = new java.util.ArrayList<>(2);
        HeapImpl heap = threadHeap.get();
        if (heap != null) {
            out.add(heap);
        }
        HeapImpl[] tagged = taggedHeaps.get();
        if (tagged != null) {
            for (HeapImpl t : tagged) {
                if (t != null) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    /**
     * The calling thread's batch heap (its tag-0 thread heap) if {@link #batchHeaps} holds it, else null: one array
     * load and one compare, for {@code freeDelayed}, which otherwise goes through the block's segment header or the
     * thread-local. A slot holds the newest heap of the threads whose ids share it; the others find null or another
     * thread's heap there, and look their heap up the long way.
     */
    HeapImpl batchHeap(long tid) {
        HeapImpl heap = (HeapImpl) BATCH_SLOT.getAcquire(batchHeaps, batchSlot(tid));
        return heap != null && heap.batchTid == tid ? heap : null;
    }

    private static int batchSlot(long tid) {
        return (int) tid & (BATCH_SLOTS - 1);
    }

    HeapImpl byId(int id) {
        HeapImpl[] heaps = table;
        return id >= 0 && id < heaps.length ? (HeapImpl) ENTRY.getAcquire(heaps, id) : null;
    }

    Iterable<HeapImpl> all() {
        return heaps.values();
    }

    AllocatorImpl allocator() {
        return allocator;
    }

    /** The virtual threads' heap of {@code tag}, made on first use. */
    SharedHeap shared(int tag) {
        SharedHeap heap = shared[tag];
        if (heap == null) {
            lock.lock();
            try {
                heap = shared[tag];
                if (heap == null) {
                    heap = new SharedHeap(this, tag, sharedHeapCount);
                    shared[tag] = heap;
                }
            } finally {
                lock.unlock();
            }
        }
        return heap;
    }

    /** Runs {@code action} on each heap of every tag's shared heap made so far, under its lock. */
    void forEachSharedLocked(java.util.function.Consumer<HeapImpl> action) {
        for (int tag = 0; tag < shared.length; tag++) {
            SharedHeap heap;
            lock.lock();
            try {
                heap = shared[tag];
            } finally {
                lock.unlock();
            }
            if (heap != null) {
                heap.forEachLocked(action);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ lifecycle

    /**
     * A new heap of {@code tag} for the calling thread ({@code THREAD}, {@code ARENA}) or the virtual threads
     * ({@code SHARED}).
     */
    HeapImpl newHeap(HeapImpl.Role role, int tag) {
        lock.lock();
        try {
            allocator.checkOpen();
            int id = freeIdCount > 0 ? freeIds[--freeIdCount] : nextId++;
            HeapImpl heap = new HeapImpl(allocator, id, role, tag, Thread.currentThread());
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
            if (heap.batchTid >= 0) {
                BATCH_SLOT.setRelease(batchHeaps, batchSlot(heap.batchTid), heap); // a dead thread's heap may be there
            }
            if (id >= table.length) {
                table = Arrays.copyOf(table, Math.max(2 * table.length, id + 1));
            }
            ENTRY.setRelease(table, id, heap);
            return heap;
        } finally {
            lock.unlock();
        }
    }

    /** {@code Heap.release()} on the owner thread: abandon, forget, and let the next call make a new heap. */
    void release(HeapImpl heap) {
        lock.lock();
        try {
            if (threadHeap.get() == heap) {
                threadHeap.remove();
            }
            HeapImpl[] tagged = taggedHeaps.get();
            if (tagged != null && tagged[heap.tag()] == heap) {
                tagged[heap.tag()] = null;
            }
            if (closed || !heap.tryEnd()) {
                return;
            }
            allocator.handOverDelayed(heap); // its blocks stay pending until their goal; the heap's thread is here
            heap.abandonAll();
            forget(heap);
            heapsReleased++;
        } finally {
            lock.unlock();
        }
    }

    /** An arena's close: every segment of its heap goes back at once. */
    void destroy(HeapImpl heap) {
        lock.lock();
        try {
            if (closed || !heap.tryEnd()) {
                return;
            }
            allocator.heapDestroyed(heap); // its samples go with its blocks, before the id can be reused
            forget(heap);
            heap.destroy();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reaps dead threads' heaps unless that was done less than {@link #REAP_INTERVAL_NANOS} ago; returns whether
     * it did.
     */
    boolean maybeReapDead(long now) {
        long last = lastReapNanos;
        // One caller per interval wins the CAS, and reaps only if the lock is free: nobody waits for it here. A
        // virtual thread that waited would park holding its shared heap's lock, and could then wait for a carrier
        // until another virtual thread ended (4 virtual threads on 2 carriers: 46% of calls found their carrier's
        // heap held that way, and those rounds ran 2-4x slower). A reap skipped waits for the next interval.
        if (now - last < REAP_INTERVAL_NANOS || !LAST_REAP.compareAndSet(this, last, now) || !lock.tryLock()) {
            return false;
        }
        try {
            if (closed) {
                return false;
            }
            reapDeadLocked(threadHeap.get());
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Abandons the segments of every heap whose thread has ended; returns how many heaps were reaped. */
    int reapDead() {
        lock.lock();
        try {
            return closed ? 0 : reapDeadLocked(threadHeap.get());
        } finally {
            lock.unlock();
        }
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
                    allocator.heapDestroyed(heap);
                    forget(heap);
                    heap.destroy();
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

    /** The allocator's close, after closeAll: see {@link #threadHeap}. */
    void forgetThreads() {
        lock.lock();
        try {
            threadHeap.remove();
            threadHeap = new ThreadLocal<>();
            taggedHeaps.remove();
            taggedHeaps = new ThreadLocal<>();
        } finally {
            lock.unlock();
        }
    }

    /** The allocator's close: every heap is unusable from now on; segments are released by the store. */
    void closeAll() {
        lock.lock();
        try {
            closed = true;
            for (HeapImpl heap : heaps.values()) {
                heap.closed = true;
            }
        } finally {
            lock.unlock();
        }
    }

    private void forget(HeapImpl heap) {
        heaps.remove(heap.id());
        if (heap.batchTid >= 0) {
            BATCH_SLOT.compareAndSet(batchHeaps, batchSlot(heap.batchTid), heap, (HeapImpl) null);
        }
        endedSlowPathCalls += heap.slowPathCalls;
        endedRemoteFrees += heap.remoteFreesCollected;
        ENTRY.setRelease(table, heap.id(), (HeapImpl) null);
        allocator.heapIdEnded(heap.id());
        if (freeIdCount == freeIds.length) {
            freeIds = Arrays.copyOf(freeIds, 2 * freeIds.length);
        }
        freeIds[freeIdCount++] = heap.id();
    }

    // ------------------------------------------------------------------------------------------------ stats

    int liveCount() {
        return heaps.size();
    }

    long deadThreadsDetected() {
        lock.lock();
        try {
            return deadThreadsDetected;
        } finally {
            lock.unlock();
        }
    }

    long heapsReleased() {
        lock.lock();
        try {
            return heapsReleased;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Remote frees collected by every heap, ended or live. One hold of the monitor: a heap ending meanwhile (reaped
     * from any thread's slow path) moves its count from the live heaps to the ended total in {@link #forget}, and a
     * sum read in two steps could miss it, and a cumulative stat go down.
     */
    long remoteFreesCollected() {
        lock.lock();
        try {
            long sum = endedRemoteFrees;
            for (HeapImpl heap : heaps.values()) {
                sum += heap.remoteFreesCollected;
            }
            return sum;
        } finally {
            lock.unlock();
        }
    }

    /** Slow-path calls of every heap, ended or live, in one hold of the monitor (see remoteFreesCollected). */
    long slowPathCalls() {
        lock.lock();
        try {
            long sum = endedSlowPathCalls;
            for (HeapImpl heap : heaps.values()) {
                sum += heap.slowPathCalls;
            }
            return sum;
        } finally {
            lock.unlock();
        }
    }
}
