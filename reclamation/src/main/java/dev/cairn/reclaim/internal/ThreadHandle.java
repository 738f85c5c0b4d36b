package dev.cairn.reclaim.internal;

import dev.cairn.reclaim.Qsbr;
import dev.cairn.reclaim.QsbrConfig;
import dev.cairn.reclaim.QsbrThread;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;

/**
 * A registered thread's handle: the fast paths ({@link #quiescent()}, {@link #defer}) and the slow paths they
 * call when work is due (run the queue, force an advance, wait a bounded time for readers).
 *
 * <p>Confinement: every field below is read and written by the owner thread only; the shared state lives in the
 * {@link Slot} (its sequence, read by scanners) and in the {@link DeferredQueue} (its counters, read by stats).
 * Fast paths stay small: {@code quiescent()} is a load, a store and one compare of a plain field; everything else
 * sits in methods named {@code ...Slow} or below them.
 */
public final class ThreadHandle implements QsbrThread {

    private final QsbrDomain domain;
    private final GlobalSeq seq;
    private final Slot slot;
    private final DeferredQueue queue;
    private final Thread owner;
    private final LongConsumer free;
    private final LongUnaryOperator sizeOf;
    private final long bytesLimit;
    private final int queueThreshold;
    private final int advanceInterval;
    private final long maxStallNanos;

    /** quiescent() looks at the queue once the write sequence reaches this; {@link Seq#NEVER} when empty. */
    private long dueSeq = Seq.NEVER;
    /** deferredAdvance() calls since the last real advance. */
    private int deferrals;
    /** Queue length at which defer() runs what is due. */
    private int processAtSize;
    /** The byte limit in force: the configured one, or higher after a stall gave up (until the queue drains). */
    private long softBytesLimit;
    /** True while this thread runs its queue; work that calls back into the handle only queues. */
    private boolean processing;
    /** The queue is over the byte limit and defer() could not wait; the next quiescent point waits instead. */
    private boolean drainAtQuiescentPoint;
    /**
     * The write sequence when a look found readers behind the head goal (already advanced to), or NEVER when they
     * are not lagging. While it is the current one, quiescent points look again only after {@link #lagSkips}.
     */
    private long lagWr = Seq.NEVER;
    /** Quiescent points left before the next look while readers lag. */
    private int lagSkips;
    /** Quiescent points between looks while readers lag: doubles per failed look, up to MAX_LAG_BACKOFF. */
    private int lagBackoff = 1;
    private static final int MAX_LAG_BACKOFF = 1024;

    ThreadHandle(QsbrDomain domain, GlobalSeq seq, Slot slot, Thread owner, QsbrConfig config) {
        this.domain = domain;
        this.seq = seq;
        this.slot = slot;
        this.queue = slot.queue;
        this.owner = owner;
        this.free = config.free();
        this.sizeOf = config.sizeOf();
        this.bytesLimit = config.deferredBytesLimit();
        this.queueThreshold = config.queueThreshold();
        this.advanceInterval = config.advanceInterval();
        this.maxStallNanos = nanosSaturated(config.maxStall());
        this.processAtSize = queueThreshold;
        this.softBytesLimit = bytesLimit;
    }

    /**
     * QsbrConfig accepts any non-negative Duration, and toNanos() throws past about 292 years
     * (ChronoUnit.FOREVER, "never give up"); that threw out of register() after the slot was installed, leaving
     * the thread registered without a handle. Long.MAX_VALUE nanos never expires in waitUnderLimit's deadline test.
     */
    private static long nanosSaturated(java.time.Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public Qsbr domain() {
        return domain;
    }

    // ---- online state ----

    @Override
    public void quiescent() {
        assert checkOnlineForAssert();
        long wr = seq.loadWrAcquire(); // acquire: pairs with advance()'s RMW; unlinks before it are visible to us
        slot.storeSeqRelease(wr);      // release: pairs with the acquire in SlotTable.minOnline
        if (wr >= dueSeq) {
            quiescentSlow();
        }
    }

    @Override
    public void attach() {
        checkUsable();
        if (slot.loadSeqPlain() != Seq.OFFLINE) {
            throw Errors.alreadyAttached();
        }
        goOnline();
    }

    /** Publishes the current write sequence in the slot, then fences. Also used right after registration. */
    void goOnline() {
        slot.storeSeqRelease(seq.loadWrAcquire());
        VarHandle.fullFence(); // pairs with the fullFence in QsbrDomain.scan: it sees us online, or we see its unlink
    }

    @Override
    public void detach() {
        checkUsable();
        if (slot.loadSeqPlain() == Seq.OFFLINE) {
            throw Errors.alreadyDetached();
        }
        slot.storeSeqRelease(Seq.OFFLINE); // release: pairs with the acquire in SlotTable.minOnline
    }

    @Override
    public boolean isRegistered() {
        return !slot.isRetired();
    }

    @Override
    public boolean isAttached() {
        checkUsable();
        return slot.loadSeqPlain() != Seq.OFFLINE;
    }

    @Override
    public void unregister() {
        checkUsable();
        if (processing) {
            throw Errors.unregisterFromDeferredWork(); // the queue being run would be handed over mid-run
        }
        processing = true;
        try {
            processOwn();
        } finally {
            processing = false;
            dueSeq = Seq.NEVER;
            domain.unregister(slot);
        }
    }

    // ---- deferring ----

    @Override
    public long deferredAdvance() {
        checkUsable();
        return nextGoal();
    }

    @Override
    public void defer(long address) {
        checkUsable();
        long size = sizeOfAddress(address);
        enqueue(nextGoal(), address, size, null);
    }

    @Override
    public void defer(long address, long goal) {
        checkUsable();
        domain.checkGoal(goal);
        long size = sizeOfAddress(address);
        enqueue(goal, address, size, null);
    }

    @Override
    public void defer(Runnable work) {
        Objects.requireNonNull(work, "work");
        checkUsable();
        enqueue(nextGoal(), 0, 0, work);
    }

    @Override
    public void deferHolding(Runnable work, long bytes) {
        Objects.requireNonNull(work, "work");
        if (bytes < 0) {
            throw new IllegalArgumentException("deferHolding: negative byte count " + bytes);
        }
        checkUsable();
        enqueue(nextGoal(), 0, bytes, work);
    }

    @Override
    public void defer(Runnable work, long goal) {
        Objects.requireNonNull(work, "work");
        checkUsable();
        domain.checkGoal(goal);
        enqueue(goal, 0, 0, work);
    }

    @Override
    public int processDeferred() {
        checkUsable();
        if (processing) {
            return 0;
        }
        processing = true;
        try {
            return processOwn();
        } finally {
            processing = false;
        }
    }

    private long nextGoal() {
        if (++deferrals >= advanceInterval) {
            deferrals = 0;
            return domain.advance();
        }
        VarHandle.fullFence(); // orders the caller's unlink before this read; partner: the RMW of the advance() that
                               // later moves wrSeq to the goal, after which readers' acquire loads see the unlink
        return seq.loadWrAcquire() + Seq.INCR;
    }

    private long sizeOfAddress(long address) {
        if (free == null) {
            throw Errors.noFreeFunction();
        }
        long size = sizeOf.applyAsLong(address);
        if (size < 0) {
            throw Errors.negativeSize(address, size);
        }
        return size;
    }

    private void enqueue(long goal, long address, long size, Runnable task) {
        try {
            if ((size > softBytesLimit - queue.bytes() && !drainAtQuiescentPoint) || queue.size() >= processAtSize) {
                deferSlow(size);
            }
        } finally {
            // Queued even when an older item's free function or task threw out of deferSlow: the caller's item
            // is already unlinked, and an exception about another item must not leak it.
            queue.push(goal, address, size, task);
            if (dueSeq == Seq.NEVER) {
                dueSeq = queue.headGoal();
            }
        }
    }

    // ---- slow paths ----

    private void quiescentSlow() {
        if (processing) {
            return;
        }
        // readers lag behind our head goal: look again after an advance, or after a backoff of quiescent points
        // (without the latter, an idle domain, which never advances, never ran the work at all)
        if (lagWr != Seq.NEVER && !drainAtQuiescentPoint && seq.loadWrAcquire() == lagWr && --lagSkips > 0) {
            return;
        }
        processing = true;
        try {
            boolean drain = drainAtQuiescentPoint;
            drainAtQuiescentPoint = false;
            processOwn();
            if (drain) {
                waitUnderLimit(0, true);
            }
            domain.processOrphansIfAny();
        } finally {
            processing = false;
        }
    }

    /** defer() found the queue long, or one more item would pass the byte limit. */
    private void deferSlow(long size) {
        if (processing) {
            return; // called from work this thread is running: only queue
        }
        processing = true;
        try {
            if (size > softBytesLimit - queue.bytes() && !drainAtQuiescentPoint) {
                enforceBytesLimit(size);
            } else {
                processOwn();
            }
            domain.processOrphansIfAny();
        } finally {
            processing = false;
        }
    }

    /**
     * Runs what is due in this thread's queue (at most one scan) and sets the next due mark. Other online threads
     * count; this one does not (it promised not to touch what it deferred). Returns how many items ran.
     */
    private int processOwn() {
        try {
            long head = queue.headGoal();
            if (head == Seq.NEVER) {
                return 0;
            }
            long reached = seq.loadRdAcquire(); // acquire: pairs with the CAS that published it
            if (head > reached) {
                reached = domain.reached(slot);
            }
            return queue.runReached(reached, free);
        } finally {
            settle();
        }
    }

    /** Recomputes the owner-only triggers after the queue changed. */
    private void settle() {
        long head = queue.headGoal();
        long wr = seq.loadWrAcquire();
        // Still waiting: the goal has not been advanced to yet (look again when it is), or readers lag behind it
        // (look again at quiescent points, backing off: see quiescentSlow). Both make quiescent() take the slow
        // path at wrSeq >= head.
        dueSeq = head;
        if (head != Seq.NEVER && head <= wr) {
            lagBackoff = lagWr == Seq.NEVER ? 1 : Math.min(lagBackoff * 2, MAX_LAG_BACKOFF);
            lagWr = wr;
            lagSkips = lagBackoff;
        } else {
            lagWr = Seq.NEVER;
        }
        // saturating: a large queueThreshold (Integer.MAX_VALUE, "never by count") wrapped negative, and every
        // later defer then scanned and ran due work
        processAtSize = (int) Math.min(Integer.MAX_VALUE, (long) queue.size() + queueThreshold);
        if (queue.bytes() <= bytesLimit) {
            softBytesLimit = bytesLimit;
            drainAtQuiescentPoint = false;
        }
        if (drainAtQuiescentPoint) {
            takeSlowPathAtNextQuiescentPoint();
        }
    }

    private void takeSlowPathAtNextQuiescentPoint() {
        dueSeq = Seq.INITIAL; // the write sequence is always >= 1, so quiescent() will find this due
    }

    /**
     * One more item of {@code size} bytes would pass the limit: force an advance, run what is due and, if still
     * over, wait for the other threads (at most maxStall).
     */
    private void enforceBytesLimit(long size) {
        queue.count(DeferredQueue.FORCED_ADVANCES);
        domain.advance();
        processOwn();
        if (!fits(size) && !queue.isEmpty()) {
            waitUnderLimit(size, false);
        }
    }

    /**
     * Waits, with backoff and at most maxStall, until the other threads have passed enough goals that
     * {@code size} more bytes fit under the limit (or the queue is empty).
     *
     * <p>Inside {@code defer} ({@code atQuiescentPoint == false}) this thread may hold references, so its slot
     * stays where it was and it may be what another writer is waiting for. Two writers waiting there would wait on
     * each other, so each marks itself stalled, and one that finds a stalled writer among those holding it back
     * stops and finishes the wait at its next quiescent point instead. There ({@code atQuiescentPoint == true})
     * it holds nothing, so it re-publishes its slot every round and never holds anyone back while it waits.
     * Running out of time counts an overrun and lets this thread go one more limit's worth over before trying
     * again.
     */
    private void waitUnderLimit(long size, boolean atQuiescentPoint) {
        long deadline = System.nanoTime() + maxStallNanos;
        Backoff backoff = new Backoff();
        // Offline, this thread holds nobody back, so no writer can be waiting on it: it waits here and does not
        // put the wait off to a quiescent point, which an offline writer (freeDelayed's) never reaches; putting it
        // off there let its queue grow past the limit with no stall and no overrun counted.
        boolean mayBeWaitedOn = !atQuiescentPoint && slot.loadSeqPlain() != Seq.OFFLINE;
        if (mayBeWaitedOn) {
            slot.storeStalledRelease(true);
        }
        try {
            while (!fits(size) && !queue.isEmpty()) {
                if (queue.headGoal() > seq.loadWrAcquire()) {
                    domain.advance(); // items queued by work we ran may carry goals nobody has advanced to
                }
                if (atQuiescentPoint) {
                    slot.storeSeqRelease(seq.loadWrAcquire()); // a quiescent point again: pairs as in quiescent()
                }
                Slot blocker = domain.findLiveBlocker(queue.headGoal(), slot);
                if (blocker != null && mayBeWaitedOn && blocker.loadStalledAcquire()) {
                    drainAtQuiescentPoint = true;
                    takeSlowPathAtNextQuiescentPoint();
                    return;
                }
                if (System.nanoTime() - deadline >= 0) {
                    queue.count(DeferredQueue.LIMIT_OVERRUNS);
                    long raised = queue.bytes() + size + bytesLimit;
                    softBytesLimit = raised < 0 ? Long.MAX_VALUE : raised;
                    return;
                }
                backoff.idle();
                processOwn();
            }
        } finally {
            if (mayBeWaitedOn) {
                slot.storeStalledRelease(false);
            }
            backoff.restoreInterrupt();
        }
    }

    private boolean fits(long size) {
        return size <= bytesLimit - queue.bytes();
    }

    // ---- checks ----

    private void checkUsable() {
        if (Thread.currentThread() != owner) {
            throw Errors.wrongThread(owner);
        }
        if (slot.retired) {
            throw Errors.unregistered();
        }
    }

    private boolean checkOnlineForAssert() {
        checkUsable();
        if (slot.loadSeqPlain() == Seq.OFFLINE) {
            throw new IllegalStateException("quiescent() while detached; attach() first");
        }
        return true;
    }
}
