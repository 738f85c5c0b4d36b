package dev.cairn.alloc.internal;

import dev.cairn.segments.OsThread;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Which shared heap a virtual thread's call tries first ({@link SharedHeap}): the one its carrier was given. Carriers
 * are numbered in the order they first call, and carrier {@code n} gets slot {@code n mod slots}, so while there are no
 * more carriers than slots each has a heap of its own. Every virtual thread mounted on a carrier then allocates from
 * that carrier's heap, whose pages and metadata stay in that CPU's cache, and its lock is almost never taken by
 * another carrier (larson-virtual: half the CPU time of a first slot chosen by thread id; docs/benchmarks.md).
 *
 * <p>The answer is only a hint, which is all the caller needs: the heap is used under its lock, and a virtual thread
 * that parks may resume on another carrier.
 *
 * <p>Table: open addressing on the carrier's {@link OsThread#currentId()}, written under this object's lock (a key is
 * published with a release store after its slot), read without it. Carriers that end leave their entry; a new thread
 * often gets the same id and entry. Once the table is full, unknown carriers get a slot from their id's hash, and where
 * {@code OsThread} is not available, from the virtual thread's id.
 */
final class CarrierSlots {

    /** Probes before a lookup gives up and hashes (the table is at least four times the slots, so rarely). */
    private static final int MAX_PROBES = 16;
    private static final VarHandle KEY = MethodHandles.arrayElementVarHandle(long[].class);

    private final int slots;
    private final long[] keys;
    private final int[] values;
    private final int mask;
    /** The slot the next new carrier gets (under the lock). */
    private int next;

    CarrierSlots(int slots) {
        if (slots <= 0) {
            throw new IllegalArgumentException("slots must be positive: " + slots);
        }
        this.slots = slots;
        int capacity = Integer.highestOneBit(Math.max(64, slots * 4 - 1)) << 1;
        this.keys = new long[capacity];
        this.values = new int[capacity];
        this.mask = capacity - 1;
    }

    /** The slot the calling thread's carrier (a platform thread: itself) was given. */
    int current() {
        long carrier = OsThread.currentId();
        if (carrier == 0) {
            return (int) Long.remainderUnsigned(Thread.currentThread().threadId(), slots);
        }
        return slotOf(carrier);
    }

    /** The slot of carrier {@code carrier} (nonzero), given it on its first call. */
    int slotOf(long carrier) {
        int start = hash(carrier);
        for (int probe = 0; probe < MAX_PROBES; probe++) {
            int at = (start + probe) & mask;
            long key = (long) KEY.getAcquire(keys, at);
            if (key == carrier) {
                return values[at];
            }
            if (key == 0) {
                return assign(carrier);
            }
        }
        return Integer.remainderUnsigned(start, slots);
    }

    private synchronized int assign(long carrier) {
        int start = hash(carrier);
        for (int probe = 0; probe < MAX_PROBES; probe++) {
            int at = (start + probe) & mask;
            long key = keys[at];
            if (key == carrier) {
                return values[at]; // registered by another virtual thread of this carrier while this one waited
            }
            if (key == 0) {
                int slot = next;
                next = (next + 1) % slots;
                values[at] = slot;
                KEY.setRelease(keys, at, carrier); // after the slot: a reader that sees the key sees its slot
                return slot;
            }
        }
        return Integer.remainderUnsigned(start, slots);
    }

    private static int hash(long carrier) {
        return (int) ((carrier * 0x9E3779B97F4A7C15L) >>> 32);
    }
}
