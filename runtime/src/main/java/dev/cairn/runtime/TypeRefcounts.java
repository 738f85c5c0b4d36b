package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;

/**
 * One thread's reference counts of heap types (CPython's per-thread {@code refcounts} array), indexed by type id,
 * so that making instances of one type on many threads never writes the type's memory.
 *
 * <p>Written only by its thread; read and zeroed by {@link #mergeInto} on that thread at close, by the GC while the
 * world is stopped (the stop orders it after the owner's last write), or by the reaper of a thread that ended
 * without closing ({@link ThreadReaper}; the thread's end orders it). A type's true count is its shared count
 * plus the sum of every thread's slot, so only the GC (which merges all of them first) decides that a type died.
 */
final class TypeRefcounts {

    private long[] counts = new long[8];

    void add(long type, long delta) {
        int id = Raw.getInt(type + Types.TYPE_ID);
        if (id >= counts.length) {
            counts = java.util.Arrays.copyOf(counts, Math.max(id + 1, counts.length * 2));
        }
        counts[id] += delta;
    }

    /** Adds every non-zero slot to its type's shared count (atomically) and zeroes it. */
    void mergeInto(TypeIds ids) {
        for (int id = 0; id < counts.length; id++) {
            long n = counts[id];
            if (n != 0) {
                long type = ids.type(id);
                Raw.getAndAddLong(type + ObjectLayout.OB_REF_SHARED, n << ObjectLayout.SHARED_SHIFT);
                counts[id] = 0;
            }
        }
    }

    long get(int id) {
        return id < counts.length ? counts[id] : 0;
    }
}
