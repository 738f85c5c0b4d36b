/*
 * QSBR in short; the long form is docs/design/qsbr.md (the code is the reference; the doc changes with it).
 * What: lock-free readers may still hold a block a writer has unlinked; free it only once every online thread
 * has reported a quiescent point (it holds no reference into shared structures) after the unlink.
 * Encoding: write sequence wrSeq, odd (1, 3, 5... +2 per advance); one padded slot per registered thread holding
 * the wrSeq it last observed, 0 = offline (detached); rdSeq caches the minimum over online slots.
 * Reader: quiescent(): slot := wrSeq (acquire load, release store), nothing more on the fast path.
 *         attach(): slot := wrSeq, then a full fence. detach(): slot := 0 (release).
 * Writer: unlink; goal := advance() (fetch-add 2, new value) or deferredAdvance(); defer(block, goal).
 *         poll(goal): goal <= rdSeq; else full fence, scan slots, CAS rdSeq forward to the minimum, compare.
 * Queue:  deferred items run oldest first once reached, checked at quiescent points (when wrSeq reaches the head
 *         goal), at queueThreshold items, and before the byte limit would be passed (then a forced advance, and
 *         a wait of at most maxStall for readers).
 * Safe because: a slot >= goal means its thread loaded wrSeq after the advance (acquire), so its later reads see
 * the unlink, and its earlier reads happen-before the free (release store, acquire load in the scan). A thread
 * going online during a scan is covered by the two full fences (store-buffer pattern): the scan sees it online,
 * or its reads see the unlink.
 * Why QSBR: readers pay nothing per access and Cairn threads have natural quiescent points (allocator slow paths,
 * safepoints); the price is that an online thread that never reaches one blocks reclamation, so threads go
 * offline around blocking calls, and dead threads are detected and dropped.
 * Slots are padded objects referenced from a growable array and each handle points at its own slot, so growth
 * copies references and loses no store, without CPython's stop-the-world.
 */
package dev.cairn.reclaim;

import dev.cairn.reclaim.internal.QsbrDomain;

/**
 * A quiescent-state-based reclamation domain: memory that lock-free readers of this domain may still hold is
 * freed only after every online thread of the domain has passed a quiescent point.
 *
 * <p>Each allocator (or other owner of shared structures) has its own domain; threads of one domain never wait
 * for another's. Threads that read shared structures {@linkplain #register() register} and get a
 * {@link QsbrThread} handle, confined to that thread, for the per-thread operations. Writers use
 * {@link #advance()} and {@link #poll(long)} directly, or defer frees through their handle.
 *
 * <p>Goals: {@link #advance()} returns a goal, an odd number; a goal is <em>reached</em> once every thread that is
 * online has reported a quiescent point after the advance. Threads that are offline, unregistered or dead do not
 * count. A registered thread that calls {@link #poll(long)} counts too: report a quiescent point first if it holds
 * no references.
 *
 * <p>All methods of a domain are safe to call from any thread.
 */
public sealed interface Qsbr extends AutoCloseable permits QsbrDomain {

    /** A domain with {@link QsbrConfig#defaults()}: defers tasks only, since it has no free function. */
    static Qsbr create() {
        return new QsbrDomain(QsbrConfig.defaults());
    }

    /** A domain configured by {@code config}. */
    static Qsbr create(QsbrConfig config) {
        return new QsbrDomain(config);
    }

    QsbrConfig config();

    /**
     * Registers the calling thread and returns its handle, already attached (online). A thread registers at most
     * once per domain; a slot freed by an unregistered (or dead) thread is reused.
     *
     * @throws IllegalStateException if the calling thread is already registered here, or the domain is closed
     */
    QsbrThread register();

    /**
     * The calling thread's handle in this domain, or {@code null} if it is not registered here. Lets a layer that
     * needs the thread's handle (an allocator's delayed frees) use the one its caller registered instead of
     * failing to register a second.
     */
    QsbrThread current();

    /**
     * Advances the write sequence and returns the new value as the goal for memory unlinked before this call.
     * One atomic add on a shared word; batch with {@link QsbrThread#deferredAdvance()} when freeing often.
     */
    long advance();

    /**
     * Whether every online thread has passed {@code goal}. First compares with the cached read sequence; if that
     * is behind, scans every slot (O(threads)), moves the cached read sequence forward, and unregisters threads
     * found dead among those that block the goal.
     *
     * @throws IllegalArgumentException if {@code goal} is not odd and positive, or lies beyond the next advance
     *                                  (it cannot have come from this domain)
     */
    boolean poll(long goal);

    /**
     * Advances and waits until every online thread has passed the new goal, then runs the deferred work that
     * threads left behind when they unregistered or died. For tests and shutdown; a live thread's own queue is
     * confined to it and is not run here. The wait is not interruptible: an interrupt is kept and set again on
     * return.
     *
     * @throws IllegalStateException if the caller is online in this domain (it would wait for itself)
     */
    void synchronize();

    /**
     * Without waiting for any reader: unregisters every registered thread that has ended, online or offline (a
     * poll does this only for online threads that hold its goal back), and runs the due part of the work that
     * departed threads left behind. Returns how many threads it unregistered. A writer that ended offline holds
     * nobody back, so without this (or a later {@link #register()}, or the thread object being collected) its
     * queue would wait.
     */
    int reapDeadThreads();

    /** The current write sequence (acquire). */
    long writeSequence();

    /** The cached read sequence (acquire): every online thread had passed it when it was published. */
    long readSequence();

    /** A snapshot of the counters; see {@link QsbrStats} for what each means and how consistent it is. */
    QsbrStats stats();

    /**
     * Runs the deferred work left by departed threads and closes the domain; later {@link #register()} calls
     * fail. Threads found dead are unregistered first. Closing a closed domain does nothing. If some of that work
     * throws, the rest still runs; the first exception is then thrown, later ones attached as suppressed.
     *
     * @throws IllegalStateException if live threads are still registered
     */
    @Override
    void close();
}
