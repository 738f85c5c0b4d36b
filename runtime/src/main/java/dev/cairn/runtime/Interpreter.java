package dev.cairn.runtime;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.DumpOptions;
import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.collections.impl.list.mutable.primitive.LongArrayList;

/**
 * An interpreter: a set of objects and the threads that use them, on its own allocator (isolated memory, abandoned
 * pool and QSBR domain) or on the main interpreter's. It owns the thread table, the biased-RC merge queues, the
 * stop-the-world state and the heap-type ids.
 *
 * <p>Life: reference counted ({@link #acquire()}, {@link #release()}); an API-made interpreter is destroyed when its
 * last reference goes. Destruction needs every thread state of a live thread closed (those of dead threads are
 * reaped, {@link ThreadReaper}), runs a last collection, frees what is left
 * (reported as leaked) and closes an own allocator. {@link Whence} decides what the API may do: it runs code only in
 * interpreters it or the runtime made, and destroys only those it made.
 */
public final class Interpreter {

    private static final int LIVE = 0;
    /** Destruction has checked that no live thread has a state here: no new state may join (but its own). */
    private static final int DESTROYING = 1;
    private static final int DESTROYED = 2;

    final Runtime runtime;
    private final long id;
    private final Whence whence;
    /** Small number written into this interpreter's objects ({@code ob_interp}); reused after destruction. */
    final int slot;
    final Allocator allocator;
    private final boolean ownsAllocator;
    final BrcQueues brc = new BrcQueues();
    final StopTheWorld stw = new StopTheWorld(this);
    final TypeIds typeIds = new TypeIds();
    final LongAdder objectsAllocated = new LongAdder();
    final LongAdder objectsFreed = new LongAdder();

    /**
     * Guards {@link #threads} and {@link #indexes}; held by a stop-the-world requester for the whole pause, so a
     * thread that may be attached takes it through {@link #lockHead()}.
     */
    final ReentrantLock headLock = new ReentrantLock();
    private ThreadState[] threads = new ThreadState[8];
    private final BitSet indexes = new BitSet();
    private final AtomicInteger refcount = new AtomicInteger(1);
    private volatile int state = LIVE;

    /**
     * Guards the orphans below; its own lock, not {@code this}: a reaper hands orphans over while it holds
     * {@link #headLock}, which destruction (synchronized on {@code this}) takes.
     */
    private final Object orphanLock = new Object();
    /** Delayed decrefs of closed and reaped thread states: objects and their goals; guarded by orphanLock. */
    private final LongArrayList orphanObjects = new LongArrayList();
    private final LongArrayList orphanGoals = new LongArrayList();
    /** Whether orphans wait: the checkpoints' cheap test (written under orphanLock). */
    volatile boolean orphansWaiting;

    Interpreter(Runtime runtime, long id, Whence whence, int slot, Allocator allocator, boolean ownsAllocator) {
        this.runtime = runtime;
        this.id = id;
        this.whence = whence;
        this.slot = slot;
        this.allocator = allocator;
        this.ownsAllocator = ownsAllocator;
    }

    public long id() {
        return id;
    }

    public Whence whence() {
        return whence;
    }

    public boolean ownsAllocator() {
        return ownsAllocator;
    }

    public boolean isDestroyed() {
        return state == DESTROYED;
    }

    /** Objects made and freed so far (snapshots of striped counters). */
    public long objectsAllocated() {
        return objectsAllocated.sum();
    }

    public long objectsFreed() {
        return objectsFreed.sum();
    }

    /** Whether {@code address} lies in this interpreter's allocator's memory (never, once destroyed). */
    public boolean ownsMemory(long address) {
        if (state == DESTROYED) {
            return false;
        }
        return allocator.owns(address);
    }

    /**
     * Binds the calling thread to this interpreter and attaches it. A thread has at most one thread state per
     * interpreter and one attached thread state overall. If the table holds states of threads that ended without
     * closing them, the new state reaps them before it is returned ({@link #reapDeadThreads()}).
     *
     * @throws IllegalStateException if this interpreter was adopted (the API does not run code in it), is
     *                               destroyed, or the thread already has one here, or the calling thread holds
     *                               the pause of an interpreter with a higher id
     */
    public ThreadState newThreadState() {
        if (whence == Whence.ADOPTED) {
            throw new IllegalStateException("interpreter " + id + " was adopted, not created by this API: "
                    + "it will not run code in it");
        }
        stw.checkAttachOrder(); // the new state is attached: see ThreadState.attach
        return newThreadStateInternal();
    }

    ThreadState newThreadStateInternal() {
        return newThreadStateInternal(true, false);
    }

    /**
     * With {@code reap}, the new state reaps the dead ones its table scan saw ({@link ThreadReaper});
     * {@code forDestruction}: destruction's own temporary state, the only one let in while DESTROYING.
     */
    private ThreadState newThreadStateInternal(boolean reap, boolean forDestruction) {
        checkLive();
        ThreadState attached = runtime.current();
        if (attached != null) {
            // checked before anything is reserved, so that a refused call leaves no trace
            throw new IllegalStateException(Thread.currentThread() + " already has " + attached + " attached");
        }
        ThreadState ts;
        boolean sawDead = false;
        if (!headLock.tryLock()) {
            if (stw.isStopped()) {
                stw.checkWaitOrder(); // held by a pause, maybe one that waits for a pause the caller holds
            }
            headLock.lock();
        }
        try {
            // under the head lock, where destruction decides that no live thread has a state here: a state made
            // after that decision would be used while the interpreter's memory is freed under it
            if (state != LIVE && !(forDestruction && state == DESTROYING)) {
                throw new IllegalStateException("interpreter " + id + " is "
                        + (state == DESTROYING ? "being destroyed" : "destroyed"));
            }
            for (ThreadState other : threads) {
                if (other != null && other.thread == Thread.currentThread()) {
                    throw new IllegalStateException(Thread.currentThread() + " already has " + other);
                }
                sawDead |= other != null && !other.thread.isAlive();
            }
            int index = indexes.nextClearBit(0);
            runtime.useAllocator(allocator);
            ts = new ThreadState(this, runtime.nextThreadId(), index);
            indexes.set(index);
            if (index >= threads.length) {
                threads = java.util.Arrays.copyOf(threads, threads.length * 2);
            }
            threads[index] = ts;
        } finally {
            headLock.unlock();
        }
        brc.add(ts);
        ts.attach(false);
        if (reap && sawDead) {
            ThreadReaper.reapDead(ts);
        }
        return ts;
    }

    /**
     * A closing thread state gives its heap back if it was the thread's last on this allocator, then leaves the
     * table on its own thread. In that order: once it has left, a destruction may run and close the interpreter's own
     * allocator, and a release after that was refused as a call on a closed allocator (LifecycleRaceProbeTest, round
     * 50 of a CI run).
     */
    void removeThread(ThreadState ts) {
        runtime.leaveAllocator(allocator);
        headLock.lock();
        try {
            removeThreadLocked(ts);
        } finally {
            headLock.unlock();
        }
    }

    /**
     * Takes {@link #headLock} on a thread that may have a thread state attached (here or in another interpreter). A
     * pause's requester holds the lock while it waits for attached threads to stop, so blocking on it attached would
     * deadlock: the caller waits detached instead, lets the lock go, attaches again (waiting out the pause), and
     * tries again. Partner: {@link StopTheWorld#stopLocked}.
     */
    void lockHead() {
        while (!headLock.tryLock()) {
            if (stw.isStopped()) {
                stw.checkWaitOrder(); // a joiner or leaver holds it only briefly; a pause, maybe for long
            }
            ThreadState self = runtime.current();
            if (self == null) {
                headLock.lock();
                return;
            }
            self.detach();
            headLock.lock();
            // holding it while attaching would deadlock with a requester that set requested and waits for the lock
            headLock.unlock();
            self.attach(false);
        }
    }

    /** Clears {@code ts}'s table slot and index; the caller holds {@link #headLock}. */
    void removeThreadLocked(ThreadState ts) {
        threads[ts.index] = null;
        indexes.clear(ts.index);
    }

    /** The thread table; the caller holds {@link #headLock}. */
    List<ThreadState> threadsSnapshotLocked() {
        List<ThreadState> out = new ArrayList<>();
        for (ThreadState ts : threads) {
            if (ts != null) {
                out.add(ts);
            }
        }
        return out;
    }

    /**
     * Thread states in the table: open ones, and those whose thread ended without closing them and that nobody has
     * reaped yet ({@link #reapDeadThreads()}).
     */
    public int threadCount() {
        lockHead();
        try {
            return indexes.cardinality();
        } finally {
            headLock.unlock();
        }
    }

    private boolean hasDeadThreads() {
        lockHead();
        try {
            for (ThreadState ts : threads) {
                if (ts != null && !ts.thread.isAlive()) {
                    return true;
                }
            }
            return false;
        } finally {
            headLock.unlock();
        }
    }

    /**
     * Reaps the thread states of this interpreter whose thread ended without closing them: what {@code close()}
     * would have done is done on their behalf, and their indexes are free again (protocol: {@link ThreadReaper}).
     * Thread-state creation and collections do it too; this is for a caller that wants it now. Any thread may call
     * it: the work runs on the caller's thread state if it is attached here, else on a temporary one (a thread state
     * attached elsewhere is detached meanwhile). A safe point: the caller may stop here for another thread's pause.
     *
     * @return how many thread states were reaped
     * @throws IllegalStateException if this interpreter is destroyed, or the caller has a detached thread state here
     */
    public int reapDeadThreads() {
        checkLive();
        if (!hasDeadThreads()) {
            return 0;
        }
        ThreadState current = runtime.current();
        if (current != null && current.interp == this) {
            return ThreadReaper.reapDead(current);
        }
        if (current != null) {
            current.detach();
        }
        try (ThreadState temporary = newThreadStateInternal(false, false)) {
            return ThreadReaper.reapDead(temporary);
        } finally {
            if (current != null) {
                current.attach(false);
            }
        }
    }

    /**
     * Stops every other thread of this interpreter at its next checkpoint (detached ones at once) and returns
     * when all are stopped; {@link #startTheWorld()} on the same thread lets them go. A caller attached in another
     * interpreter is detached there until {@link #startTheWorld()}, which attaches it again (waiting out a pause
     * there) unless the caller attached it, closed it or attached another state meanwhile: attached, it could
     * deadlock with a thread of this interpreter stopping that one.
     *
     * @throws IllegalStateException if this interpreter is destroyed, or the calling thread already holds its world
     *                               stopped (by this method or {@link Runtime#stopTheWorld()})
     */
    public void stopTheWorld() {
        checkLive();
        if (stw.stoppedBy(Thread.currentThread())) {
            // a second stop would take the locks twice and one start release them once: every other thread would
            // then wait for them forever
            throw new IllegalStateException("the world of interpreter " + id + " is already stopped by this thread");
        }
        // attached in another interpreter, we could wait here for a thread that waits there for us (see
        // StopTheWorld's class comment): that state stays detached until startTheWorld
        ThreadState elsewhere = runtime.current();
        if (elsewhere != null && elsewhere.interp != this) {
            elsewhere.detach();
        } else {
            elsewhere = null;
        }
        try {
            stw.lockDetached();
            stw.stopLocked();
        } catch (RuntimeException | Error e) {
            if (elsewhere != null) {
                elsewhere.attach(false);
            }
            throw e;
        }
        stw.detachedElsewhere = elsewhere;
    }

    /**
     * Starts the world {@link #stopTheWorld()} stopped.
     *
     * @throws IllegalStateException if the calling thread did not stop it, or stopped it with
     *                               {@link Runtime#stopTheWorld()} (which {@link Runtime#startTheWorld()} ends)
     */
    public void startTheWorld() {
        if (!stw.mutex.isHeldByCurrentThread() || !stw.stoppedBy(Thread.currentThread())) {
            throw new IllegalStateException("the world of interpreter " + id + " was not stopped by this thread");
        }
        if (runtime.stoppedByRuntimePause(this)) {
            // started here, Runtime.startTheWorld would start it again, fail on the released lock, and leave the
            // interpreters after it stopped for good
            throw new IllegalStateException("the world of interpreter " + id + " was stopped by Runtime.stopTheWorld:"
                    + " Runtime.startTheWorld starts it");
        }
        ThreadState elsewhere = stw.detachedElsewhere;
        stw.detachedElsewhere = null;
        stw.startLocked();
        stw.mutex.unlock();
        // the caller may have attached that state again during the pause (allowed in a higher interpreter), closed
        // it, or attached another: attaching it here then threw, after the world had started
        if (elsewhere != null && runtime.current() == null) {
            int s = elsewhere.state();
            if (s != ThreadState.ATTACHED && s != ThreadState.CLOSED) {
                elsewhere.attach(false);
            }
        }
    }

    /** {@link #dumpHeap(Path, DumpOptions)} with {@link DumpOptions#DEFAULT}. */
    public void dumpHeap(Path path) {
        dumpHeap(path, DumpOptions.DEFAULT);
    }

    /**
     * Writes a heap dump of this interpreter's allocator ({@link Allocator#dumpHeap(Path, DumpOptions)}) with an
     * OBJECTS section: a type table and one record per live object (address, type, counts, owner, flags, size) of
     * every interpreter on that allocator, and the runtime's immortals when it is the main one. Every interpreter on
     * the allocator is stopped for the whole dump (see {@link #stopTheWorld()}), so the records are one moment's
     * picture; a caller that already holds all their pauses keeps them. Any thread may call it, attached or not (a
     * thread state attached in an interpreter on another allocator is detached there for the dump, as
     * {@link #stopTheWorld()} does);
     * {@code scripts/cairn-inspect DUMP objects} reads it. Format: {@code docs/heap-dump-format.md}.
     *
     * @throws IllegalStateException if this interpreter is destroyed, or the caller holds the pauses of some but not
     *                               all of the interpreters on this allocator
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public void dumpHeap(Path path, DumpOptions options) {
        ObjectDump.write(this, path, options);
    }

    void adoptDelayed(DelayedDecrefs d) {
        synchronized (orphanLock) {
            d.drainTo(orphanObjects, orphanGoals);
            orphansWaiting = !orphanObjects.isEmpty();
        }
    }

    /**
     * From checkpoints: runs closed threads' delayed decrefs that are due. Without it they waited for the next
     * collection or the destruction, piling up without bound while threads came and went and nobody collected.
     * Looks at the goals first (no allocation while none is due), and advances once when the latest lies beyond the
     * write sequence (goals from deferredAdvance are reached only after a real advance, which may never come).
     */
    void processDueOrphans(ThreadState ts) {
        long min = Long.MAX_VALUE;
        long max = 0;
        synchronized (orphanLock) {
            for (int i = 0; i < orphanGoals.size(); i++) {
                min = Math.min(min, orphanGoals.get(i));
                max = Math.max(max, orphanGoals.get(i));
            }
            if (orphanGoals.isEmpty()) {
                orphansWaiting = false;
                return;
            }
        }
        dev.cairn.reclaim.Qsbr domain = allocator.qsbr();
        if (max > domain.writeSequence()) {
            domain.advance();
        }
        if (domain.poll(min)) {
            processOrphans(ts, false);
        }
    }

    /** Runs closed threads' delayed decrefs: all of them ({@code all}, world stopped) or those due. */
    void processOrphans(ThreadState ts, boolean all) {
        LongArrayList due = new LongArrayList();
        synchronized (orphanLock) {
            LongArrayList keepObjs = new LongArrayList();
            LongArrayList keepGoals = new LongArrayList();
            for (int i = 0; i < orphanObjects.size(); i++) {
                if (all || allocator.qsbr().poll(orphanGoals.get(i))) {
                    due.add(orphanObjects.get(i));
                } else {
                    keepObjs.add(orphanObjects.get(i));
                    keepGoals.add(orphanGoals.get(i));
                }
            }
            orphanObjects.clear();
            orphanObjects.addAll(keepObjs);
            orphanGoals.clear();
            orphanGoals.addAll(keepGoals);
            orphansWaiting = !orphanObjects.isEmpty();
        }
        for (int i = 0; i < due.size(); i++) {
            BiasedRc.decref(ts, due.get(i));
        }
    }

    /** Takes a reference to this interpreter. */
    public Interpreter acquire() {
        while (true) {
            int n = refcount.get();
            // zero references end only an API-made interpreter; the main and adopted ones live until
            // Runtime.close, and may be acquired again
            if (state == DESTROYED || n <= 0 && whence == Whence.API) {
                throw new IllegalStateException("interpreter " + id + " is destroyed");
            }
            if (refcount.compareAndSet(n, n + 1)) {
                return this;
            }
        }
    }

    /**
     * Drops a reference; the last one destroys an API-made interpreter (see {@link #destroy()}) and returns its
     * report. The main and adopted interpreters are destroyed by {@link Runtime#close()} only.
     */
    public Optional<DestroyReport> release() {
        int n = refcount.decrementAndGet();
        if (n < 0) {
            refcount.incrementAndGet();
            throw new IllegalStateException("interpreter " + id + " has no reference left to release");
        }
        if (n == 0 && whence == Whence.API) {
            try {
                return Optional.of(destroyInternal());
            } catch (RuntimeException e) {
                if (!isDestroyed()) {
                    refcount.incrementAndGet(); // not destroyed (thread states still open): the reference stays
                } // else destroyed meanwhile by destroy() or Runtime.close(): acquire must keep refusing it
                throw e;
            }
        }
        return Optional.empty();
    }

    /**
     * Destroys an interpreter this API made, whatever its reference count: see the class comment. Thread states
     * whose thread ended without closing them are reaped first ({@link #reapDeadThreads()}).
     *
     * @throws IllegalStateException for the main or an adopted interpreter, or with thread states of live threads
     *                               still open
     */
    public DestroyReport destroy() {
        if (whence != Whence.API) {
            throw new IllegalStateException("interpreter " + id + " (" + whence + ") was not created by this API: "
                    + "it will not destroy it");
        }
        return destroyInternal();
    }

    synchronized DestroyReport destroyInternal() {
        if (state == DESTROYED) {
            throw new IllegalStateException("interpreter " + id + " is already destroyed");
        }
        shutOutThreads();
        // the destroying thread may be attached elsewhere: it steps out while it works here (one attached at a time)
        ThreadState elsewhere = runtime.current();
        if (elsewhere != null) {
            elsewhere.detach();
        }
        boolean done = false;
        try {
            try (ThreadState ts = newThreadStateInternal(true, true)) {
                Gc.collect(ts); // merges queues, runs orphaned decrefs, frees cycles and dead heap types
            }
            // inside this interpreter's pause: a heap dump (which holds it for its walk, and checks liveness once
            // it has it) never walks blocks being freed here, nor an own allocator being unmapped
            boolean ownPause = stw.stoppedBy(Thread.currentThread());
            if (!ownPause) {
                stw.lockDetached();
                stw.stopLocked();
            }
            DestroyReport report;
            try {
                state = DESTROYED;
                done = true;
                refcount.set(0);
                report = freeEverything();
            } finally {
                if (!ownPause) {
                    stw.startLocked();
                    stw.mutex.unlock();
                }
            }
            runtime.unregister(this);
            return report;
        } finally {
            if (!done) {
                state = LIVE; // nothing was freed: usable again
            }
            if (elsewhere != null) {
                elsewhere.attach(false);
            }
        }
    }

    /**
     * Checks that no live thread has a state here and moves to DESTROYING, in one hold of the head lock, so that no
     * thread state joins after the check; throws, changing nothing, otherwise. Dead threads' states do not count:
     * destruction's temporary thread state reaps them when it is made.
     */
    private void shutOutThreads() {
        lockHead();
        try {
            int open = 0;
            for (ThreadState ts : threads) {
                open += ts != null && ts.thread.isAlive() ? 1 : 0;
            }
            if (open != 0) {
                throw new IllegalStateException("interpreter " + id + " still has " + open + " thread state(s)");
            }
            state = DESTROYING;
        } finally {
            headLock.unlock();
        }
    }

    /**
     * {@link Runtime#close()}'s first pass: shuts threads out as destruction does (waiting out a destruction in
     * progress), so that the refusal of a later interpreter can still leave every one of them as it was.
     */
    synchronized void prepareClose() {
        if (state != DESTROYED) {
            shutOutThreads();
        }
    }

    /** Undoes {@link #prepareClose()} when the runtime's close is refused. */
    synchronized void cancelClose() {
        if (state == DESTROYING) {
            state = LIVE;
        }
    }

    /** Frees every block of this interpreter (all threads gone); counts live objects as leaked. */
    private DestroyReport freeEverything() {
        LongArrayList blocks = new LongArrayList();
        long[] counters = new long[2]; // leaked objects, bytes
        Map<String, Long> byType = new HashMap<>();
        allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
            int kind = ObjectLayout.blockKindAcquire(address); // other interpreters run: see ObjectLayout.init
            if (kind == ObjectLayout.KIND_OBJECT && ObjectLayout.interpSlot(address) == slot) {
                counters[0]++;
                byType.merge(Types.nameOf(address), 1L, Long::sum);
            } else if (kind == ObjectLayout.KIND_BUFFER && Raw.getInt(address + ObjectLayout.BUF_INTERP) == slot) {
                // a live container's buffer: freed with it below
            } else {
                return true;
            }
            counters[1] += usable;
            blocks.add(address);
            return true;
        });
        if (ownsAllocator) {
            allocator.close();
        } else {
            for (int i = 0; i < blocks.size(); i++) {
                Raw.putShort(blocks.get(i) + ObjectLayout.OB_FLAGS, (short) 0);
                allocator.free(blocks.get(i));
            }
        }
        return new DestroyReport(id, counters[0], byType, counters[1]);
    }

    /** Refuses a destroyed interpreter (one being destroyed passes: its destruction collects through it). */
    void checkLive() {
        if (state == DESTROYED) {
            throw new IllegalStateException("interpreter " + id + " is destroyed");
        }
    }

    @Override
    public String toString() {
        return "Interpreter[id=" + id + ", " + whence + (ownsAllocator ? ", own allocator" : ", shared allocator")
                + "]";
    }
}
