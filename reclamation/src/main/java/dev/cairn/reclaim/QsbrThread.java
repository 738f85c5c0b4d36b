package dev.cairn.reclaim;

import dev.cairn.reclaim.internal.ThreadHandle;

/**
 * One thread's registration in a {@link Qsbr} domain: its slot, its deferred-work queue and its online/offline
 * state.
 *
 * <p>Confinement: a handle belongs to the thread that {@linkplain Qsbr#register() registered} it. Every method
 * except {@link #quiescent()} checks the caller and throws {@link WrongThreadException} from another thread and
 * {@link IllegalStateException} after {@link #unregister()}; {@code quiescent()} is the fast path and checks only
 * with assertions enabled ({@code -ea}).
 *
 * <p>States: registered handles start <em>online</em> (attached). Online threads hold back reclamation until they
 * report a quiescent point; {@link #detach()} takes the thread offline around anything that may block (I/O,
 * parking, waiting for a lock), where it must hold no reference into shared structures, and {@link #attach()}
 * brings it back. {@link #unregister()} ends the registration; a thread that ends without it is detected and
 * unregistered by the domain.
 *
 * <p>Deferring: {@code defer} queues an address (freed by the domain's {@link QsbrConfig#free()}) or a task to
 * run after a goal is reached. Take the goal <em>after</em> the memory became unreachable to new readers. The
 * deferring thread promises not to touch what it deferred (as with {@code free}); so when it runs its own queue it
 * does not wait for itself, only for the other online threads. Work runs on this thread, at a quiescent point
 * or inside {@code defer}; exceptions from it propagate to that call, and the failed item is dropped. A
 * {@code defer} that throws such an exception has still queued its own item.
 */
public sealed interface QsbrThread permits ThreadHandle {

    /** The domain this handle is registered with. */
    Qsbr domain();

    /**
     * Reports a quiescent point: the calling thread holds no reference into structures this domain protects.
     * One acquire load of the write sequence and one release store to the thread's slot; when deferred work of
     * this thread may be due (the write sequence has reached its oldest goal), that work runs here.
     *
     * <p>Must be called while online; calling it offline is a misuse that brings the thread online without the
     * attach fence (caught by an assertion with {@code -ea}).
     */
    void quiescent();

    /**
     * Takes the thread offline: it blocks nobody until {@link #attach()}. Call it where the thread holds no
     * reference into shared structures.
     *
     * @throws IllegalStateException if already offline
     */
    void detach();

    /**
     * Brings the thread back online, at the current write sequence (a release store and a full fence).
     *
     * @throws IllegalStateException if already online
     */
    void attach();

    /** Whether the thread is online. */
    boolean isAttached();

    /**
     * A goal for memory unlinked before this call, cheaper than {@link Qsbr#advance()}: it really advances the
     * write sequence only once per {@link QsbrConfig#advanceInterval()} calls and otherwise returns the next
     * sequence value (reached only after some later advance). Costs one full fence when it does not advance.
     */
    long deferredAdvance();

    /**
     * Frees {@code address} with the domain's free function once {@link #deferredAdvance()}'s goal is reached.
     *
     * @throws IllegalStateException    if the domain has no free function
     * @throws IllegalArgumentException if the size function returns a negative size
     */
    void defer(long address);

    /**
     * Frees {@code address} with the domain's free function once {@code goal} is reached.
     *
     * @throws IllegalStateException    if the domain has no free function
     * @throws IllegalArgumentException if {@code goal} is not a goal of this domain (see {@link Qsbr#poll(long)}),
     *                                  or the size function returns a negative size
     */
    void defer(long address, long goal);

    /** Runs {@code work} once {@link #deferredAdvance()}'s goal is reached. */
    void defer(Runnable work);

    /**
     * Runs {@code work} once {@link #deferredAdvance()}'s goal is reached, counting {@code bytes} against this
     * thread's deferred-bytes limit until it has run, as a deferred address counts its size: for work that frees
     * memory in bulk (a batch of blocks whose unlinks all happened before this call).
     *
     * @throws IllegalArgumentException if {@code bytes} is negative
     */
    void deferHolding(Runnable work, long bytes);

    /**
     * Runs {@code work} once {@code goal} is reached.
     *
     * @throws IllegalArgumentException if {@code goal} is not a goal of this domain
     */
    void defer(Runnable work, long goal);

    /**
     * Runs whatever deferred work of this thread is due now (one scan at most); returns how many items ran.
     * Useful on a slow path that wants memory back; quiescent points and {@code defer} do this by themselves.
     */
    int processDeferred();

    /**
     * Runs what is due, hands the rest of this thread's queue to the domain (any thread runs it once due) and
     * frees the slot for reuse. The handle is unusable afterwards.
     */
    void unregister();

    /**
     * Whether this handle is still registered: false after {@link #unregister()}, or once the domain has
     * unregistered it because its thread died. Any thread may ask.
     */
    boolean isRegistered();
}
