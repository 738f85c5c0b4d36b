package dev.cairn.alloc.internal;

import dev.cairn.reclaim.Qsbr;
import dev.cairn.reclaim.QsbrConfig;
import dev.cairn.reclaim.QsbrThread;

/**
 * {@code freeDelayed}: a block is freed only after every online thread of the allocator's own QSBR domain has
 * passed a quiescent point (CPython's {@code _PyMem_FreeDelayed}). Each allocator has its own domain, so threads of
 * one allocator never wait for another's.
 *
 * <h2>Who waits for whom</h2>
 * Readers, the threads that may hold a block another thread frees, take part through {@link #participant()}
 * (registered online on first use) and report quiescent points or go offline around blocking calls. A thread that
 * only frees with delay is registered <em>offline</em> on its first {@code freeDelayed}: a writer must not hold
 * every other writer's memory back just because it once deferred a free; if it also reads, it calls
 * {@code qsbrThread()}, which brings its handle online. The deferring thread never waits for itself.
 *
 * <p>A thread with a heap gathers its delayed frees in a {@link DelayedBatch} first and hands the domain one item per
 * batch; the per-address path below is for threads without a heap (virtual threads) and for direct defers.
 *
 * <h2>Pending blocks (checked mode)</h2>
 * {@code freeDelayed} proves the block as {@code free} does, then sets its remote bit with an atomic OR: from then
 * on the block is <em>pending</em> (live bit and remote bit set, on no list), every second {@code free} or
 * {@code freeDelayed} of it is refused as a double free, and the heap walk counts it as in use. When the goal is
 * reached, the QSBR domain calls {@link AllocatorImpl#releasePending}, which frees it for real on whatever thread runs
 * the deferred work. {@code validate()} checks that the pending blocks it finds match {@link #pending()} exactly.
 *
 * <p>An address deferred on {@link #participant()}'s handle directly is a delayed free too: the domain's
 * {@code sizeOf} hook proves and marks it (checked mode) before it is queued, so no unproven address ever reaches
 * the free function.
 *
 * <p>Bounded: each thread's queue is bounded in bytes (the domain's limit,
 * {@link QsbrConfig#DEFAULT_DEFERRED_BYTES_LIMIT} by default); past it the thread forces an advance and waits, at
 * most the domain's max stall, for the readers.
 */
final class DelayedFrees {

    private final Qsbr qsbr;
    /** The hooks' and batches' way to the allocator, cut by its close (see AllocatorLink). */
    private final AllocatorLink link;
    private final ThreadLocal<QsbrThread> handle = new ThreadLocal<>();
    /** Set while the thread's handle was registered offline by {@code freeDelayed} and never used to read. */
    private final ThreadLocal<Boolean> writerOnly = new ThreadLocal<>();

    DelayedFrees(AllocatorImpl allocator) {
        this.link = new AllocatorLink(allocator);
        AllocatorLink link = this.link;
        boolean checked = allocator.checked();
        // sizeOf runs on the deferring thread before the address is queued, for freeDelayed and for an address
        // deferred on qsbrThread() directly alike: in checked mode it is where the block is proven and marked.
        this.qsbr = Qsbr.create(QsbrConfig.builder()
                .free(address -> {
                    AllocatorImpl open = link.get();
                    if (open != null) { // closed: the block went back with every segment
                        open.releasePending(address);
                    }
                })
                .sizeOf(address -> {
                    AllocatorImpl open = link.get();
                    if (open == null) {
                        throw Errors.closed();
                    }
                    return checked ? open.markPending(address) : open.pendingBlockSize(address);
                })
                .build());
    }

    AllocatorLink link() {
        return link;
    }

    /** The allocator's close: the domain, still referenced from threads' handles, lets go of the allocator. */
    void close() {
        link.cut();
    }

    Qsbr domain() {
        return qsbr;
    }

    /** The calling thread's handle, registered and online (a reader). */
    QsbrThread participant() {
        QsbrThread thread = handle.get();
        if (thread == null || !thread.isRegistered()) { // none yet, or the caller unregistered it: a new one
            thread = registeredOrNew();
            handle.set(thread);
            writerOnly.remove();
        } else if (!thread.isAttached() && writerOnly.get() == Boolean.TRUE) {
            writerOnly.remove();
            thread.attach(); // registered offline by freeDelayed; now it reads too
        }
        return thread;
    }

    /** The calling thread's handle if it has a registered one, else null (a new heap of the thread runs its queue). */
    QsbrThread current() {
        QsbrThread thread = handle.get();
        return thread != null && thread.isRegistered() ? thread : null;
    }

    /** Queues a block on the calling thread's handle (registered offline if it has none); returns the handle. */
    QsbrThread defer(long address) {
        QsbrThread thread = writerHandle();
        thread.defer(address);
        return thread;
    }

    /**
     * A thread that reports quiescent points (its handle is online) hands its filling batch over at the first of
     * them that comes after the batch was started and after the readers caught up with the write sequence of that
     * moment: a lone delayed free followed only by quiescent points is then freed at a later one, instead of waiting
     * in the batch for 63 more or an allocation slow path. Queued as a task with an already issued goal; it touches
     * the heap only on the heap's own thread (a dead thread's queue is run by others) and only if the batch is still
     * the filling one (a full batch, a slow path or a release may have handed it over first).
     */
    void handOverAtNextQuiescentPoint(HeapImpl heap, DelayedBatch batch) {
        QsbrThread thread = handle.get();
        if (thread == null || !thread.isRegistered() || !thread.isAttached()) {
            return; // a writer only: its batches go at the usual points
        }
        AllocatorLink link = this.link;
        Qsbr qsbr = this.qsbr;
        long ownerTid = heap.ownerTid();
        thread.defer(() -> {
            AllocatorImpl open = link.get();
            if (open != null && Thread.currentThread().threadId() == ownerTid && heap.delayedBatch == batch) {
                QsbrThread handed = open.handOverDelayed(heap);
                if (handed != null) {
                    heap.delayedHandle = handed;
                    qsbr.advance(); // the batch's goal was only the next sequence: an idle domain never reaches it
                }
            }
        }, qsbr.writeSequence());
    }

    /** Queues a batch of proven, pending blocks as one item holding its bytes (see DelayedBatch). */
    QsbrThread deferBatch(DelayedBatch batch) {
        QsbrThread thread = writerHandle();
        thread.deferHolding(batch, batch.bytes());
        return thread;
    }

    /** The calling thread's handle, registered offline (a writer) if it has none or unregistered the one it had. */
    private QsbrThread writerHandle() {
        QsbrThread thread = handle.get();
        if (thread == null || !thread.isRegistered()) {
            thread = qsbr.current();
            if (thread == null) {
                thread = qsbr.register();
                thread.detach();
                writerOnly.set(Boolean.TRUE);
            } else {
                writerOnly.remove(); // the caller's own registration: its online state is the caller's
            }
            handle.set(thread);
        }
        return thread;
    }

    /**
     * The handle the calling thread registered with {@link #domain()} itself, if it did, else a new one. A second
     * register() would throw; from a hand-over (a full batch, a reaped heap's batch) that dropped a batch of blocks
     * already marked pending, and they were never freed.
     */
    private QsbrThread registeredOrNew() {
        QsbrThread thread = qsbr.current();
        return thread != null ? thread : qsbr.register();
    }

    /**
     * Runs the calling thread's delayed frees that are due ({@code collect()}), and those of threads that ended or
     * left. Deferral takes cheap goals that only every so many calls really advance the write sequence, so advance
     * it here first: what was deferred becomes due as soon as the online readers pass a quiescent point (or are
     * found dead).
     */
    void processCurrentThread() {
        qsbr.poll(qsbr.advance()); // poll also unregisters dead threads that hold the goal back
        qsbr.reapDeadThreads(); // and this the dead writers, whose queues (batches included) run now if due
        QsbrThread thread = handle.get();
        if (thread != null && thread.isRegistered()) {
            thread.processDeferred();
        }
    }

    /**
     * The calling thread leaves the domain ({@code releaseCurrentThread()}): what is due runs, the rest of its queue
     * goes to the domain (run by any thread once due), and its next delayed free registers it again.
     */
    void releaseCurrentThread() {
        QsbrThread thread = handle.get();
        if (thread != null) {
            handle.remove();
            writerOnly.remove();
            thread.unregister();
        }
    }

    /** Advances the write sequence and runs the thread's due delayed frees (malloc's slow path, see AllocatorImpl). */
    void advanceAndProcess(QsbrThread thread) {
        qsbr.advance();
        thread.processDeferred();
    }

    /** How often, in malloc slow-path calls, a thread that frees with delay hands over and runs its frees. */
    static final int SLOW_PATH_INTERVAL = 16;

    /** Blocks deferred and not yet freed, over all threads (the domain's address items: no counter of our own). */
    long pending() {
        return qsbr.stats().deferredAddresses();
    }
}
