package dev.cairn.alloc.internal;

import dev.cairn.segments.ProcessBarrier;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Checks in flight marked without atomics: the cheap side of {@code SegmentStore}'s check-in-flight protocol, for the
 * checked queries and frees that read a segment another thread may be unmapping (a remote or stale address).
 *
 * <p>Protocol. A platform thread owns a slot of {@link #table} (claimed with one CAS at its first check, given back by
 * a {@code Cleaner} once its {@code Thread} is unreachable, or taken over before that by a thread that finds its holder
 * ended: see {@link #takeOver}). A check adds 1 to its slot's count with an opaque store
 * (only the owner writes it, so a plain read and an opaque store are the whole increment), which the JIT keeps before
 * the map lookup that follows (HotSpot fences opaque accesses against every other memory access at compile time), and
 * takes it back with a release store after its last read of the segment; checks nest. No CPU fence: the unmapping
 * side provides it. Before unmapping a segment it has removed from the map, a thread fences, runs
 * {@link ProcessBarrier#run()} (every running thread of the process executes a full barrier), then waits until it
 * has seen every count at zero once ({@link #await}). Dekker's pattern with one side's fence moved to the other:
 * either the barrier came after a check's mark, and the unmapper sees the mark and waits for the check, or it came
 * before it, and the check's lookup, which follows its mark, sees the segment removed and reads nothing of it.
 *
 * <p>Where the barrier is unavailable (not Linux, an old kernel, a seccomp filter; {@code -Dcairn.checkMarks.off=true}
 * forces it), for virtual threads (a slot per virtual thread would not pay), and for a thread whose slot another
 * live thread holds, {@link #enter} answers {@link #NONE} and the check takes {@code SegmentStore}'s CAS slots. A marked
 * section never unmaps (it would wait for its own mark).
 */
final class CheckMarks {

    /** {@link #enter}'s answer when the caller has no slot: the check takes a CAS slot instead. */
    static final int NONE = -1;

    private static final int SLOTS = 256; // a power of two; thread ids are sequential, so ids spread over it
    private static final int SPACING = 16; // longs: each slot (owner id, mark) on 128 bytes of its own
    private static final long[] table = new long[SLOTS * SPACING];
    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);
    private static final boolean ENABLED = ProcessBarrier.available() && !Boolean.getBoolean("cairn.checkMarks.off");
    private static final java.lang.ref.Cleaner SLOT_RETURNS = ENABLED ? java.lang.ref.Cleaner.create() : null;
    /**
     * Per slot, its holder's {@code Thread}, weakly (written after the claim: a reader checks that its id is the
     * slot's before it trusts it).
     */
    @SuppressWarnings("unchecked")
    private static final java.lang.ref.WeakReference<Thread>[] holders = new java.lang.ref.WeakReference[SLOTS];
    private static final VarHandle HOLDER = MethodHandles.arrayElementVarHandle(java.lang.ref.WeakReference[].class);
    /** A slot's owner id while {@link #returnSlot} clears it: no thread has it, so nobody claims or takes it over. */
    private static final long RETURNING = -1;

    private CheckMarks() {
    }

    /** Marks a check in flight; returns the token for {@link #exit}, or {@link #NONE} (see the class comment). */
    static int enter() {
        if (!ENABLED) {
            return NONE;
        }
        Thread thread = Thread.currentThread();
        long me = thread.threadId();
        int slot = ((int) me & (SLOTS - 1)) * SPACING;
        if ((long) CELL.get(table, slot) != me && !claim(thread, me, slot)) {
            return NONE;
        }
        long marks = (long) CELL.get(table, slot + 1);
        CELL.setOpaque(table, slot + 1, marks + 1); // no fence: see the class comment (partner: await's barrier)
        return slot;
    }

    static void exit(int slot) {
        CELL.setRelease(table, slot + 1, (long) CELL.get(table, slot + 1) - 1); // after the check's reads
    }

    /**
     * Before an unmap of a segment removed from the map, after a fence: waits until every check that may have found
     * it there has ended. Returns at once where the marks are not used.
     */
    static void await() {
        if (!ENABLED) {
            return;
        }
        ProcessBarrier.run();
        for (int slot = 0; slot < table.length; slot += SPACING) {
            for (int spins = 0; (long) CELL.getVolatile(table, slot + 1) != 0; spins++) {
                SegmentStore.awaitBriefly(spins);
            }
        }
    }

    /** The thread id holding the slot {@code tid} maps to, 0 when free (tests). */
    static long slotOwner(long tid) {
        return (long) CELL.getVolatile(table, ((int) tid & (SLOTS - 1)) * SPACING);
    }

    /** Whether the marks are in use in this process (tests). */
    static boolean enabled() {
        return ENABLED;
    }

    /**
     * The claiming thread's {@code Thread} became unreachable: it can hold no check any more, so its count is
     * cleared (in case it ended inside one, which no unmap could ever wait out) and the slot freed for others.
     */
    private static void returnSlot(int slot, long me) {
        // the slot first: of this and a takeover, only the one whose CAS wins writes the count
        if (CELL.compareAndSet(table, slot, me, RETURNING)) {
            CELL.setVolatile(table, slot + 1, 0L);
            CELL.setVolatile(table, slot, 0L);
        }
    }

    private static boolean claim(Thread thread, long me, int slot) {
        if (thread.isVirtual()) {
            return false;
        }
        long holder = (long) CELL.getVolatile(table, slot);
        if (holder == 0 ? !CELL.compareAndSet(table, slot, 0L, me) : !takeOver(slot, holder, me)) {
            return false;
        }
        HOLDER.setRelease(holders, slot / SPACING, new java.lang.ref.WeakReference<>(thread));
        SLOT_RETURNS.register(thread, () -> returnSlot(slot, me)); // captures no Thread
        return true;
    }

    /**
     * Takes over a slot whose holder has ended but whose {@code Thread} no collection has made unreachable yet, so its
     * {@code Cleaner} has not given the slot back: under thread churn with little garbage, most new threads otherwise
     * found their slot held and took the CAS slots (9% of xmalloc's checks, docs/benchmarks.md). Safe because a thread
     * that has ended holds no mark: every check ends in a {@code finally}, and its last write happens-before
     * {@code isAlive()} returning false. The holder is identified by id, so a stale entry of {@link #holders} (a
     * claim not yet recorded there) is never taken for the slot's holder.
     */
    private static boolean takeOver(int slot, long holder, long me) {
        @SuppressWarnings("unchecked")
        java.lang.ref.WeakReference<Thread> ref =
                (java.lang.ref.WeakReference<Thread>) HOLDER.getAcquire(holders, slot / SPACING);
        Thread thread = ref == null ? null : ref.get();
        if (thread == null || thread.threadId() != holder || thread.isAlive()
                || !CELL.compareAndSet(table, slot, holder, me)) {
            return false;
        }
        CELL.setVolatile(table, slot + 1, 0L); // an ended holder's count is 0; only this thread writes it from now on
        return true;
    }
}
