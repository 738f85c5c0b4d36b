package dev.cairn.reclaim.internal;

import dev.cairn.reclaim.Qsbr;
import dev.cairn.reclaim.QsbrConfig;
import dev.cairn.reclaim.QsbrStats;
import dev.cairn.reclaim.QsbrThread;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The domain: the shared sequences, the slot table, the registry lock and the queues threads left behind.
 *
 * <p>Lock discipline: {@link #lock} guards registration (the slot table's mutations, each slot's
 * {@code retired}/{@code cleanable}), the orphan list, the folded counters and {@code closed}. Nothing on a
 * reader's path takes it; writers take it only to hand over or pick up orphaned queues. User code (free
 * functions, tasks) never runs with it held: orphan queues are taken out under the lock and run outside.
 *
 * <p>Fences: {@link #scan} opens with a full fence that pairs with the full fence in
 * {@link ThreadHandle#goOnline()}; every slot load in a scan is an acquire that pairs with the owner's release
 * store; {@link #advance()} is a volatile fetch-and-add whose release side pairs with the acquire load in
 * {@code quiescent()}.
 */
public final class QsbrDomain implements Qsbr {

    private final QsbrConfig config;
    private final GlobalSeq seq = new GlobalSeq();
    private final ReentrantLock lock = new ReentrantLock();
    private final SlotTable table;
    private final List<DeferredQueue> orphans = new ArrayList<>(); // guarded by lock
    private volatile boolean orphansWaiting;                        // written under lock; a hint read without it
    private final long[] departed = new long[DeferredQueue.COUNTERS]; // guarded by lock: counters of gone queues
    private long deadThreads;                                       // guarded by lock
    private boolean closed;                                         // guarded by lock
    /** Each registered thread's handle, for current(); a dead thread's entry goes with the thread. */
    private final ThreadLocal<ThreadHandle> handles = new ThreadLocal<>();

    public QsbrDomain(QsbrConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.table = new SlotTable(lock, config.initialSlots());
    }

    @Override
    public QsbrConfig config() {
        return config;
    }

    // ---- registration ----

    @Override
    public QsbrThread register() {
        Thread current = Thread.currentThread();
        Slot slot;
        lock.lock();
        try {
            if (closed) {
                throw Errors.closed();
            }
            reapDeadLocked();
            if (findSlotOf(current) != null) {
                throw Errors.alreadyRegistered(current);
            }
            slot = new Slot(table.claimIndex(), current, new DeferredQueue());
            table.install(slot);
            Slot installed = slot;
            slot.cleanable = ThreadExits.watch(current, () -> reapUnreachable(installed));
        } finally {
            lock.unlock();
        }
        ThreadHandle handle = new ThreadHandle(this, seq, slot, current, config);
        handles.set(handle);
        handle.goOnline();
        return handle;
    }

    @Override
    public QsbrThread current() {
        ThreadHandle handle = handles.get();
        return handle != null && handle.isRegistered() ? handle : null;
    }

    /** The owner's unregistration: its remaining queue becomes an orphan. */
    void unregister(Slot slot) {
        handles.remove(); // on the owner thread
        lock.lock();
        try {
            retireLocked(slot);
            slot.cleanable.clean(); // the action finds the slot retired and does nothing
        } finally {
            lock.unlock();
        }
        processOrphans(false);
    }

    /** Unregisters {@code slot} if its thread has ended; returns whether it did. */
    boolean reapIfDead(Slot slot) {
        lock.lock();
        try {
            if (slot.retired || !slot.ownerIsDead()) {
                return false;
            }
            reapLocked(slot);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The cleaner's action: the thread object became unreachable, so the thread has ended. */
    private void reapUnreachable(Slot slot) {
        lock.lock();
        try {
            if (!slot.retired) {
                reapLocked(slot);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Unregisters every slot whose thread has ended. Lock held. */
    private void reapDeadLocked() {
        Slot[] array = table.loadSlotsAcquire();
        for (int i = 0; i < array.length; i++) {
            Slot s = SlotTable.loadAcquire(array, i);
            if (s != null && s.ownerIsDead()) {
                reapLocked(s);
            }
        }
    }

    private void reapLocked(Slot slot) {
        // Thread.isAlive() returning false (or the thread becoming unreachable) orders the dead thread's last
        // actions, its queue included, before ours (JLS 17.4.4).
        retireLocked(slot);
        deadThreads++;
        slot.cleanable.clean();
    }

    /** Takes {@code slot} out of the table; a non-empty queue becomes an orphan. Lock held. */
    private void retireLocked(Slot slot) {
        assert lock.isHeldByCurrentThread() && !slot.retired;
        slot.storeSeqRelease(Seq.OFFLINE); // release: pairs with the acquire in SlotTable.minOnline
        table.remove(slot);
        slot.markRetiredRelease(); // release: pairs with the acquire in isRetired(), read by isRegistered()
        DeferredQueue queue = slot.queue;
        if (queue.isEmpty()) {
            fold(queue);
            return;
        }
        if (queue.lastGoal() > seq.loadWrAcquire()) {
            advance(); // its deferred goals need one more advance, and its thread will not make it
        }
        orphans.add(queue);
        orphansWaiting = true;
    }

    /** The slot owned by {@code thread}, or null. Reads the table without the lock. */
    private Slot findSlotOf(Thread thread) {
        Slot[] array = table.loadSlotsAcquire();
        for (int i = 0; i < array.length; i++) {
            Slot s = SlotTable.loadAcquire(array, i);
            if (s != null && s.ownedBy(thread)) {
                return s;
            }
        }
        return null;
    }

    // ---- sequences ----

    @Override
    public long advance() {
        return seq.getAndAddWr(Seq.INCR) + Seq.INCR; // volatile RMW; its release pairs with quiescent()'s acquire
    }

    @Override
    public boolean poll(long goal) {
        checkGoal(goal);
        if (goal <= seq.loadRdAcquire()) {
            return true;
        }
        if (goal <= reached(null)) {
            return true;
        }
        return reapDeadBlockers(goal) && goal <= reached(null);
    }

    @Override
    public long writeSequence() {
        return seq.loadWrAcquire();
    }

    @Override
    public long readSequence() {
        return seq.loadRdAcquire();
    }

    /** Throws unless {@code goal} is odd, positive and at most one step beyond the write sequence. */
    void checkGoal(long goal) {
        if (!Seq.isGoalShaped(goal)) {
            throw Errors.notAGoal(goal);
        }
        long wr = seq.loadWrAcquire();
        if (goal > wr + Seq.INCR) {
            throw Errors.futureGoal(goal, wr);
        }
    }

    /**
     * The highest goal that every online thread other than {@code self} has passed: the larger of a fresh scan
     * and the cached read sequence. {@code self == null} counts every slot.
     */
    long reached(Slot self) {
        return Math.max(scan(self), seq.loadRdAcquire());
    }

    /**
     * Scans the slots: returns the minimum over online slots other than {@code self} (starting from the write
     * sequence), and publishes the minimum over all of them as the new read sequence if it is higher.
     */
    private long scan(Slot self) {
        VarHandle.fullFence(); // pairs with the fullFence in ThreadHandle.goOnline(): we see it online, or it sees
                               // every unlink its writer made before this scan
        long wr = seq.loadWrAcquire();
        long minOthers = table.minOnline(wr, self);
        long min = minOthers;
        if (self != null) {
            long own = self.loadSeqPlain(); // our own slot: we are its only writer
            if (own != Seq.OFFLINE && own < min) {
                min = own;
            }
        }
        long rd = seq.loadRdAcquire();
        while (rd < min && !seq.casRd(rd, min)) { // losing to another scan is fine: rd only moves forward
            rd = seq.loadRdAcquire();
        }
        return minOthers;
    }

    /** Unregisters the dead threads among the slots behind {@code goal}; returns whether it found any. */
    private boolean reapDeadBlockers(long goal) {
        boolean reaped = false;
        Slot[] array = table.loadSlotsAcquire();
        for (int i = 0; i < array.length; i++) {
            Slot s = SlotTable.loadAcquire(array, i);
            if (s != null && isBehind(s, goal) && s.ownerIsDead()) {
                reaped |= reapIfDead(s);
            }
        }
        return reaped;
    }

    /**
     * The first online slot other than {@code self} that is behind {@code goal} and whose thread is alive, or
     * null; slots of dead threads found on the way are unregistered.
     */
    Slot findLiveBlocker(long goal, Slot self) {
        Slot[] array = table.loadSlotsAcquire();
        for (int i = 0; i < array.length; i++) {
            Slot s = SlotTable.loadAcquire(array, i);
            if (s != null && s != self && isBehind(s, goal)) {
                if (!s.ownerIsDead()) {
                    return s;
                }
                reapIfDead(s);
            }
        }
        return null;
    }

    private static boolean isBehind(Slot slot, long goal) {
        long v = slot.loadSeqAcquire();
        return v != Seq.OFFLINE && v < goal;
    }

    // ---- waiting, orphans, shutdown ----

    @Override
    public void synchronize() {
        Slot own = findSlotOf(Thread.currentThread());
        if (own != null && own.loadSeqAcquire() != Seq.OFFLINE) {
            throw Errors.onlineCaller();
        }
        lock.lock();
        try {
            reapDeadLocked();
        } finally {
            lock.unlock();
        }
        long goal = advance();
        Backoff backoff = new Backoff();
        try {
            while (!poll(goal)) {
                backoff.idle();
            }
        } finally {
            backoff.restoreInterrupt();
        }
        processOrphans(true);
    }

    @Override
    public int reapDeadThreads() {
        long before;
        lock.lock();
        try {
            if (closed) {
                return 0;
            }
            before = deadThreads;
            reapDeadLocked();
            before = deadThreads - before;
        } finally {
            lock.unlock();
        }
        processOrphans(true);
        return (int) before;
    }

    /** Runs due orphaned work if there is any and the lock is free right now (never waits). */
    void processOrphansIfAny() {
        if (orphansWaiting) {
            processOrphans(false);
        }
    }

    /**
     * Takes the orphaned queues out under the lock, runs what is due in them outside it (counting every online
     * slot, the caller's included), and puts back what is left. With {@code wait == false} it gives up at once if
     * another thread holds the lock. Returns how many items ran.
     */
    private int processOrphans(boolean wait) {
        List<DeferredQueue> taken;
        if (wait) {
            lock.lock();
        } else if (!lock.tryLock()) {
            return 0;
        }
        try {
            if (orphans.isEmpty()) {
                return 0;
            }
            taken = new ArrayList<>(orphans);
            orphans.clear();
            orphansWaiting = false;
        } finally {
            lock.unlock();
        }
        int ran = 0;
        try {
            long reached = reached(null);
            for (DeferredQueue queue : taken) {
                ran += queue.runReached(reached, config.free());
            }
        } finally {
            lock.lock();
            try {
                for (DeferredQueue queue : taken) {
                    if (queue.isEmpty()) {
                        fold(queue);
                    } else {
                        orphans.add(queue);
                    }
                }
                orphansWaiting = !orphans.isEmpty();
            } finally {
                lock.unlock();
            }
        }
        return ran;
    }

    /** Adds the counters of a queue that is going away to the departed totals. Lock held. */
    private void fold(DeferredQueue queue) {
        add(departed, queue);
    }

    private static void add(long[] sums, DeferredQueue queue) {
        for (int c = 0; c < DeferredQueue.COUNTERS; c++) {
            long v = queue.counter(c);
            sums[c] = c == DeferredQueue.PEAK_BYTES ? Math.max(sums[c], v) : sums[c] + v;
        }
    }

    @Override
    public QsbrStats stats() {
        lock.lock();
        try {
            long[] sums = departed.clone();
            Slot[] array = table.loadSlotsAcquire();
            for (int i = 0; i < array.length; i++) {
                Slot s = SlotTable.loadAcquire(array, i);
                if (s != null) {
                    add(sums, s.queue);
                }
            }
            for (DeferredQueue queue : orphans) {
                add(sums, queue);
            }
            return new QsbrStats(seq.loadWrAcquire(), seq.loadRdAcquire(),
                    sums[DeferredQueue.BYTES], sums[DeferredQueue.ITEMS], sums[DeferredQueue.ADDRESSES],
                    sums[DeferredQueue.PEAK_BYTES],
                    config.deferredBytesLimit(), sums[DeferredQueue.FORCED_ADVANCES],
                    sums[DeferredQueue.LIMIT_OVERRUNS], sums[DeferredQueue.PROCESSED_ITEMS],
                    sums[DeferredQueue.PROCESSED_BYTES], table.registered(), deadThreads);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            reapDeadLocked();
            if (table.registered() > 0) {
                throw Errors.stillRegistered(table.registered());
            }
            closed = true;
        } finally {
            lock.unlock();
        }
        // Nobody is online, and retireLocked advanced past every orphan's goals, so everything runs now. Work that
        // throws must not strand the rest: a closed domain has no later call that would run it (close again does
        // nothing, registration is refused). Each failure takes its item out, so the loop ends.
        Throwable failure = null;
        while (true) {
            try {
                processOrphans(true);
                break;
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }

    /** Slot-table capacity; for tests. */
    int slotCapacity() {
        return table.capacity();
    }
}
