package dev.cairn.reclaim.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The shared array of slot references that scanners walk, with a free list of indices for reuse.
 *
 * <p>Growth without stopping readers: the table holds <em>references</em> to {@link Slot} objects and every
 * handle keeps its own slot directly, so growing copies references into a larger array and publishes it with a
 * release store. An owner's {@code quiescent()} never touches the array, so no store can be lost to a concurrent
 * copy. A scanner may still be walking the old array: it then misses only slots installed after it read the array
 * reference, and every such slot is installed before its thread's attach fence, which pairs with the scanner's
 * fence (see {@code docs/design/qsbr.md}, "Registration and growth").
 *
 * <p>Guards: every mutation (claim, install, remove, growth, the free list) happens with the domain lock held;
 * scanners read the array reference and its elements without the lock, with acquire loads.
 */
public final class SlotTable {

    private static final VarHandle SLOTS;
    private static final VarHandle ELEMENT = MethodHandles.arrayElementVarHandle(Slot[].class);

    static {
        try {
            SLOTS = MethodHandles.lookup().findVarHandle(SlotTable.class, "slots", Slot[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ReentrantLock lock;
    private Slot[] slots;        // published with release, read with acquire
    private int[] freeIndices;   // guarded by lock
    private int freeCount;       // guarded by lock
    private int nextUnused;      // guarded by lock: indices >= nextUnused have never been claimed
    private int registered;      // guarded by lock

    SlotTable(ReentrantLock lock, int initialCapacity) {
        this.lock = lock;
        this.freeIndices = new int[initialCapacity];
        SLOTS.setRelease(this, new Slot[initialCapacity]);
    }

    /** The current array; elements may be null (free index). Acquire: pairs with the release in {@link #grow}. */
    Slot[] loadSlotsAcquire() {
        return (Slot[]) SLOTS.getAcquire(this);
    }

    /** Element {@code i} of an array from {@link #loadSlotsAcquire()} (acquire: pairs with install/remove). */
    static Slot loadAcquire(Slot[] array, int i) {
        return (Slot) ELEMENT.getAcquire(array, i);
    }

    /** Takes a free index, growing the array if there is none. Lock held. */
    int claimIndex() {
        assert lock.isHeldByCurrentThread();
        if (freeCount > 0) {
            return freeIndices[--freeCount];
        }
        Slot[] current = (Slot[]) SLOTS.get(this);
        if (nextUnused == current.length) {
            grow(current);
        }
        return nextUnused++;
    }

    /** Makes {@code slot} visible to scanners at its index (release). Lock held. */
    void install(Slot slot) {
        assert lock.isHeldByCurrentThread();
        Slot[] current = (Slot[]) SLOTS.get(this);
        assert current[slot.index] == null : "index in use";
        ELEMENT.setRelease(current, slot.index, slot);
        registered++;
    }

    /** Takes {@code slot} out of the array (release) and frees its index. Lock held. */
    void remove(Slot slot) {
        assert lock.isHeldByCurrentThread();
        Slot[] current = (Slot[]) SLOTS.get(this);
        assert current[slot.index] == slot : "slot not installed";
        ELEMENT.setRelease(current, slot.index, null);
        if (freeCount == freeIndices.length) {
            freeIndices = Arrays.copyOf(freeIndices, freeIndices.length * 2);
        }
        freeIndices[freeCount++] = slot.index;
        registered--;
    }

    /** How many slots are installed. Lock held. */
    int registered() {
        assert lock.isHeldByCurrentThread();
        return registered;
    }

    /** Current capacity (for tests and stats). */
    int capacity() {
        return loadSlotsAcquire().length;
    }

    /**
     * The smallest sequence of an online slot other than {@code skip}, or {@code start} if none is smaller.
     * Lock-free; the caller issues the full fence that must precede it.
     */
    long minOnline(long start, Slot skip) {
        long min = start;
        Slot[] array = loadSlotsAcquire();
        for (int i = 0; i < array.length; i++) {
            Slot s = loadAcquire(array, i);
            if (s != null && s != skip) {
                long seq = s.loadSeqAcquire(); // acquire: pairs with the owner's release in quiescent()/detach()
                if (seq != Seq.OFFLINE && seq < min) {
                    min = seq;
                }
            }
        }
        return min;
    }

    private void grow(Slot[] current) {
        Slot[] bigger = Arrays.copyOf(current, current.length * 2);
        SLOTS.setRelease(this, bigger); // release: pairs with the acquire in loadSlotsAcquire(); copies are visible
    }
}
