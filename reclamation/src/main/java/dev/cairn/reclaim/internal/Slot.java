package dev.cairn.reclaim.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;

/**
 * One registered thread's slot: the sequence it last observed ({@code seq}), padded to its own cache line, plus
 * the state the domain needs when that thread is gone (its deferred queue, a weak reference to the thread).
 *
 * <p>Slots are separate objects, not elements of a {@code long[]}: the slot table holds references to them, and a
 * thread's handle holds its own slot directly. Growing the table copies references, so a {@code quiescent()} that
 * races with growth always stores into the one slot object every scanner will read (see {@link SlotTable}).
 *
 * <p>Fields, who writes them, what guards them:
 * <ul>
 *   <li>{@code seq}: written by the owner thread (release), and by the domain lock holder when the owner is gone;
 *       read by scanners (acquire). {@link Seq#OFFLINE} while detached.</li>
 *   <li>{@code stalled}: written by the owner around a bounded wait inside {@code defer} (release); read by other
 *       writers waiting there (acquire), so that two of them never wait on each other.</li>
 *   <li>{@code retired}: set once, under the domain lock, when the slot leaves the table (release); read without
 *       the lock by the owner (plain: it is the only one to retire it while alive) and by
 *       {@code isRegistered()} on any thread (acquire, so a thread that polls it sees the retirement).</li>
 *   <li>{@code cleanable}: set under the domain lock right after registration.</li>
 *   <li>{@code index}, {@code owner}, {@code queue}: final. The queue is confined to the owner while the slot is
 *       live, and handed to the domain when it retires.</li>
 * </ul>
 */
public final class Slot extends SlotPad64b {

    private static final VarHandle SEQ;
    private static final VarHandle STALLED;
    private static final VarHandle RETIRED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            SEQ = lookup.findVarHandle(SlotSeq.class, "seq", long.class);
            STALLED = lookup.findVarHandle(Slot.class, "stalled", boolean.class);
            RETIRED = lookup.findVarHandle(Slot.class, "retired", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final int index;
    final WeakReference<Thread> owner;
    final DeferredQueue queue;
    private boolean stalled;
    boolean retired;
    Cleaner.Cleanable cleanable;

    Slot(int index, Thread owner, DeferredQueue queue) {
        this.index = index;
        this.owner = new WeakReference<>(owner);
        this.queue = queue;
    }

    /** The owner thread's sequence, acquire: pairs with the owner's release stores. */
    public long loadSeqAcquire() {
        return (long) SEQ.getAcquire(this);
    }

    /** The sequence without ordering; only the owner may use it (it reads its own last store). */
    public long loadSeqPlain() {
        return (long) SEQ.get(this);
    }

    /** Publishes the sequence with release: every access the owner made before happens-before a scanner's read. */
    public void storeSeqRelease(long value) {
        SEQ.setRelease(this, value);
    }

    /** Whether the owner is waiting for readers in a bounded stall (acquire). */
    public boolean loadStalledAcquire() {
        return (boolean) STALLED.getAcquire(this);
    }

    /** Marks or clears the owner's bounded stall (release). */
    public void storeStalledRelease(boolean value) {
        STALLED.setRelease(this, value);
    }

    /** Whether the owner thread has ended (or been collected): such a slot must not block anyone. */
    boolean ownerIsDead() {
        Thread t = owner.get();
        return t == null || !t.isAlive();
    }

    /** Whether {@code thread} owns this slot. */
    boolean ownedBy(Thread thread) {
        return owner.get() == thread;
    }

    /**
     * Whether the slot has left the table (unregistered or reaped); any thread (acquire: pairs with
     * {@link #markRetiredRelease()}; a plain read could be hoisted out of a caller's polling loop and never change).
     */
    public boolean isRetired() {
        return (boolean) RETIRED.getAcquire(this);
    }

    /** Marks the slot retired (release); under the domain lock, once. */
    void markRetiredRelease() {
        RETIRED.setRelease(this, true);
    }
}

/** 64 bytes in front of {@code seq}: nothing allocated before the slot shares its cache line. */
abstract class SlotPad64a {
    long p00;
    long p01;
    long p02;
    long p03;
    long p04;
    long p05;
    long p06;
    long p07;
}

/** The sequence the owner last observed; accessed only through {@link Slot}'s var handle. */
abstract class SlotSeq extends SlotPad64a {
    long seq;
}

/** 64 bytes behind {@code seq}: the slot's other fields, and the next object, stay off its line. */
abstract class SlotPad64b extends SlotSeq {
    long p10;
    long p11;
    long p12;
    long p13;
    long p14;
    long p15;
    long p16;
    long p17;
}
