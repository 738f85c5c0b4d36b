package dev.cairn.runtime;

import dev.cairn.alloc.Heap;
import dev.cairn.reclaim.QsbrThread;
import dev.cairn.runtime.internal.ObjectLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.collections.impl.list.mutable.primitive.LongArrayList;

/**
 * A Java thread bound to an interpreter (CPython's {@code PyThreadState}): its id (the owner id written into the
 * objects it makes, never reused), its per-thread index in the interpreter's table (reserved at creation, released
 * at close or when reaped), its allocator heap, its QSBR handle, its biased-RC merge queue and its heap-type counts.
 *
 * <p>States (an int, written with CAS): DETACHED ↔ ATTACHED by the thread itself; DETACHED → SUSPENDED and
 * SUSPENDED → DETACHED only by a stop-the-world requester; ATTACHED → SUSPENDED by the thread itself at a
 * checkpoint when a stop is requested; DETACHED → MERGING → DETACHED by a thread that queues an object to this
 * detached owner and merges its queue for it ({@link BrcQueues}); ATTACHED, DETACHED or (by the pause's requester)
 * SUSPENDED → CLOSED by a reaper once the thread has ended without closing ({@link ThreadReaper}). An attached
 * thread may use objects; a detached one holds nothing (it is in a blocking call) and counts as stopped; attaching
 * during a stop waits for the world to start ({@link StopTheWorld}).
 *
 * <p>Confinement: every method except {@link #id()}, {@link #index()}, {@link #interpreter()} and
 * {@link #isAttached()} must be called on the bound thread. A thread has at most one attached thread state at a
 * time. Close a thread state on its thread before the thread ends; one left open is reaped later on its behalf
 * ({@link ThreadReaper}), which frees nothing that is still referenced but leaves work and memory pending until then.
 */
public final class ThreadState implements AutoCloseable {

    static final int DETACHED = 0;
    static final int ATTACHED = 1;
    static final int SUSPENDED = 2;
    static final int CLOSED = 3;
    /** DETACHED → MERGING → DETACHED by another thread that merges this one's queue on its behalf (BrcQueues). */
    static final int MERGING = 4;

    /** Eval-breaker bits: work waiting for this thread's next checkpoint. */
    static final int BREAK_MERGE = 1;
    static final int BREAK_STOP = 2;

    private static final VarHandle STATE;
    private static final VarHandle BREAKER;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(ThreadState.class, "state", int.class);
            BREAKER = l.findVarHandle(ThreadState.class, "breaker", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Interpreter interp;
    final long id;
    final int index;
    final Thread thread;
    final Heap heap;
    /** The heap of GC-tracked objects ({@link ObjectLayout#GC_HEAP_TAG}). */
    final Heap gcHeap;
    final QsbrThread qsbr;
    /** The interpreter's allocator is checked: {@code Ref.incref}/{@code decref} prove their argument first. */
    final boolean checked;
    /** Objects queued to this owner by other threads; guarded by its {@link BrcQueues} bucket lock. */
    final LongArrayList mergeQueue = new LongArrayList();
    /** Owner only (the GC reads it with the world stopped; after the owner's death, its reaper). */
    final TypeRefcounts typeRefcounts = new TypeRefcounts();
    /** Owner only (after the owner's death, its reaper). */
    final DelayedDecrefs delayed = new DelayedDecrefs();
    /** Objects this thread's checked calls proved and it owns (see ProvenObjects for who else writes it, and when). */
    final ProvenObjects proven = new ProvenObjects();

    /** DETACHED, ATTACHED, SUSPENDED, MERGING or CLOSED; see the class comment for who writes what. */
    private volatile int state = DETACHED;
    /** BREAK_* bits: set by other threads (getAndBitwiseOr), cleared by this one. */
    private volatile int breaker;

    /** Owner only: dealloc runs as a loop over this stack instead of recursing through nested containers. */
    private final LongArrayList deallocStack = new LongArrayList();
    private boolean deallocating;
    /** Owner only: checkpoints that saw orphaned delayed decrefs waiting (see checkpoint). */
    private int orphanLooks;

    ThreadState(Interpreter interp, long id, int index) {
        this.interp = interp;
        this.id = id;
        this.index = index;
        this.thread = Thread.currentThread();
        this.heap = interp.allocator.heap();
        this.gcHeap = interp.allocator.heap(ObjectLayout.GC_HEAP_TAG);
        this.qsbr = interp.allocator.qsbrThread();
        this.checked = interp.allocator.config().checked();
    }

    public Interpreter interpreter() {
        return interp;
    }

    /** The owner id written into objects this thread makes; unique for the runtime's life. */
    public long id() {
        return id;
    }

    /** This thread's slot in its interpreter's table, reused after close or reaping. */
    public int index() {
        return index;
    }

    public boolean isAttached() {
        return state == ATTACHED;
    }

    int state() {
        return state;
    }

    boolean casState(int expected, int next) {
        return STATE.compareAndSet(this, expected, next);
    }

    void setState(int next) {
        state = next;
    }

    /**
     * Binds this thread state to the calling thread's execution again after {@link #detach()}: waits while the
     * world is stopped, comes back online in QSBR, and merges objects queued meanwhile.
     *
     * @throws IllegalStateException if it is closed or attached, or the calling thread holds the pause of an
     *                               interpreter with a higher id
     */
    public void attach() {
        attach(true);
    }

    /**
     * {@link #attach()}; {@code checkOrder} false for the runtime's own re-attaches after a wait it made detached
     * (they must not fail halfway: the pause order was checked before that wait, if at all).
     */
    void attach(boolean checkOrder) {
        checkThread();
        int s = state;
        if (s == ATTACHED || s == CLOSED) {
            throw new IllegalStateException(s == CLOSED ? "thread state is closed" : "thread state already attached");
        }
        if (checkOrder) {
            interp.stw.checkAttachOrder();
        }
        interp.runtime.bindCurrent(this);
        try {
            attachLoop(checkOrder);
        } catch (RuntimeException e) {
            interp.runtime.unbindCurrent(this);
            throw e;
        }
        if (!qsbr.isAttached()) {
            qsbr.attach();
        }
        if (breaker != 0) {
            checkpointSlow();
        }
    }

    /**
     * DETACHED → ATTACHED, waiting out any stop (partner: StopTheWorld.stop's CAS DETACHED → SUSPENDED). With
     * {@code checkOrder} (a caller's attach, which may still refuse), a wait for the pause of this interpreter while
     * the caller holds a higher one's is refused ({@link StopTheWorld#checkWaitOrder}).
     */
    void attachLoop(boolean checkOrder) {
        while (true) {
            if (casState(DETACHED, ATTACHED)) {
                // Dekker pair with StopTheWorld.stop: it writes requested then reads our state; we write our state
                // then read requested, so one of us sees the other
                if (!interp.stw.stopsOthers()) {
                    return;
                }
                if (checkOrder && interp.stw.heldPauseAbove() != null) {
                    state = DETACHED; // only we leave ATTACHED; the requester may now take us to SUSPENDED
                    interp.stw.notifyRequester();
                    interp.stw.checkWaitOrder();
                }
                suspendSelf();
                continue;
            }
            if (checkOrder && state == SUSPENDED) {
                interp.stw.checkWaitOrder();
            }
            waitWhileSuspended();
        }
    }

    /**
     * Leaves the attached state around a blocking call: the thread holds no object reference into shared
     * structures until {@link #attach()}, goes offline in QSBR and counts as stopped for stop-the-world.
     */
    public void detach() {
        checkThread();
        checkAttached();
        proven.clear(); // a memo hit stands for attached (Objs.check); close detaches too
        qsbr.detach();
        state = DETACHED;
        interp.runtime.unbindCurrent(this);
        // partner: the requester's wait loop, which now may take us to SUSPENDED
        interp.stw.notifyRequester();
    }

    /**
     * A safe point, to be called by long-running loops: a QSBR quiescent point (the thread holds no borrowed
     * pointer into a list's or dict's items), merges objects other threads queued to this owner, stops here
     * while another thread has stopped the world, and runs delayed decrefs that are due (its own, and those that
     * closed thread states left to the interpreter).
     */
    public void checkpoint() {
        // a thread other than the owner would report the owner's QSBR quiescent point while the owner may still
        // hold borrowed pointers, letting their memory be freed under it: a check of two loads, always
        checkUsable();
        if (breaker != 0) {
            checkpointSlow();
        }
        qsbr.quiescent();
        if (!delayed.isEmpty()) {
            delayed.processDue(this, interp.allocator.qsbr());
        }
        // every 16th checkpoint while they wait: a look takes the orphans' lock and scans their goals
        if (interp.orphansWaiting && (++orphanLooks & 15) == 0) {
            interp.processDueOrphans(this);
        }
    }

    void checkpointSlow() {
        checkThread();
        checkAttached();
        int bits = (int) BREAKER.getAndSet(this, 0);
        if ((bits & BREAK_MERGE) != 0) {
            interp.brc.drain(this, this);
        }
        if ((bits & BREAK_STOP) != 0 && interp.stw.stopsOthers()) {
            qsbr.quiescent();
            suspendSelf();
            attachLoop(false);
        }
    }

    /** ATTACHED → SUSPENDED at a safe point, then waits until the world starts (state back to DETACHED). */
    private void suspendSelf() {
        if (!casState(ATTACHED, SUSPENDED)) {
            throw new IllegalStateException("thread state not attached: " + state);
        }
        interp.stw.notifyRequester();
        waitWhileSuspended();
    }

    private void waitWhileSuspended() {
        int s;
        while ((s = state) == SUSPENDED || s == MERGING) {
            LockSupport.park(this);
        }
    }

    void requestMerge() {
        BREAKER.getAndBitwiseOr(this, BREAK_MERGE);
    }

    void requestStop() {
        BREAKER.getAndBitwiseOr(this, BREAK_STOP);
    }

    /** Frees {@code obj} (its count reached zero) and, iteratively, whatever dies with it. */
    void dealloc(long obj) {
        if (deallocating) {
            deallocStack.add(obj);
            return;
        }
        deallocating = true;
        try {
            Kinds.dealloc(this, obj);
            while (!deallocStack.isEmpty()) {
                Kinds.dealloc(this, deallocStack.removeAtIndex(deallocStack.size() - 1));
            }
        } finally {
            deallocating = false;
        }
    }

    /** Drops a reference taken out of a lock-free-readable container once readers can no longer hold it. */
    void decrefDelayed(long obj) {
        if (interp.stw.stoppedBy(Thread.currentThread())) {
            BiasedRc.decref(this, obj);
        } else {
            delayed.add(this, obj);
        }
    }

    /**
     * Ends this thread state on its thread: merges what was queued to it, hands on its delayed decrefs and
     * heap-type counts, leaves the interpreter's tables and gives its allocator heap back (when no other thread
     * state of this thread uses the same allocator). Idempotent.
     */
    @Override
    public void close() {
        if (state == CLOSED) {
            return;
        }
        checkThread();
        if (state != ATTACHED) {
            attach();
        }
        do {
            interp.brc.drain(this, this);
            delayed.processDue(this, interp.allocator.qsbr());
            interp.adoptDelayed(delayed);
            typeRefcounts.mergeInto(interp.typeIds);
        } while (!interp.brc.remove(this));
        detach();
        interp.removeThread(this);
        // out of every table now; only a merger that found us just before can still hold us in MERGING
        while (!casState(DETACHED, CLOSED)) {
            waitWhileSuspended();
        }
    }

    void checkThread() {
        if (Thread.currentThread() != thread) {
            throw new WrongThreadException("thread state " + id + " belongs to " + thread + ", not "
                    + Thread.currentThread());
        }
    }

    /** Use from the API: the thread state must be attached, on its thread, and its interpreter alive. */
    void checkUsable() {
        if (state != ATTACHED) {
            throw new IllegalStateException(state == CLOSED ? "thread state " + id + " is closed"
                    : "thread state " + id + " is not attached");
        }
        if (Thread.currentThread() != thread) {
            checkThread();
        }
    }

    private void checkAttached() {
        if (state != ATTACHED) {
            throw new IllegalStateException("thread state " + id + " is not attached (state " + state + ")");
        }
    }

    @Override
    public String toString() {
        return "ThreadState[id=" + id + ", index=" + index + ", interpreter=" + interp.id() + ", thread="
                + thread.getName() + "]";
    }
}
