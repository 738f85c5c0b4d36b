package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import org.eclipse.collections.api.block.procedure.primitive.LongProcedure;

/**
 * Mutable sequences, read without locks (CPython's free-threaded list; docs/design/runtime.md §4).
 *
 * <p>Layout: payload 40 long size, 48 long items (a buffer block: capacity at 0, item addresses from 16).
 *
 * <p>Protocol. Writers hold the list's one-byte mutex ({@link Locks}). Readers take none: they load the items
 * pointer (acquire), then the size (acquire), check the index against both and load the item (acquire), then
 * incref it. Writers publish in the opposite order: a grown buffer is filled, then stored (release), then the new
 * size (release), so a reader that sees a size also sees a buffer at least that large once it reloads. Whatever a
 * writer takes out of reach of new readers is kept for the old ones until they pass a quiescent point: a replaced
 * buffer goes to {@code Allocator.freeDelayed} and a replaced or removed item's reference is dropped with
 * {@link ThreadState#decrefDelayed}. Invariant: every item in slots [0, size) of the current buffer is a live
 * object holding one reference from the list; slots past size are 0.
 */
public final class Lists {

    static final long SIZE = ObjectLayout.HEADER_SIZE;
    static final long ITEMS = SIZE + 8;
    private static final long MIN_CAPACITY = 4;

    private Lists() {
    }

    /** A new, empty list. */
    public static long create(ThreadState ts) {
        ts.checkUsable();
        return Objs.createEmpty(ts, ts.interp.runtime.builtins.listType, 16);
    }

    public static long size(ThreadState ts, long list) {
        Objs.checkKind(ts, list, Kinds.LIST);
        return Raw.getLongAcquire(list + SIZE);
    }

    /** A new reference to item {@code i}; lock-free. */
    public static long get(ThreadState ts, long list, long i) {
        Objs.checkKind(ts, list, Kinds.LIST);
        while (true) {
            long items = Raw.getLongAcquire(list + ITEMS);
            long size = Raw.getLongAcquire(list + SIZE);
            if (i < 0 || i >= size) {
                throw new IndexOutOfBoundsException("list index " + i + " out of range 0.." + size);
            }
            if (items == 0 || i >= Objs.bufferCapacity(items)) {
                continue; // a writer grew the list between our two loads: reload (see protocol)
            }
            long item = Raw.getLongAcquire(items + ObjectLayout.BUF_DATA + 8 * i);
            if (item == 0) {
                continue; // popped meanwhile: the size we read is stale
            }
            Debug.readWindow();
            BiasedRc.incref(ts, item);
            return item;
        }
    }

    /** Appends a new reference to {@code item}. */
    public static void append(ThreadState ts, long list, long item) {
        Objs.checkKind(ts, list, Kinds.LIST);
        Objs.check(ts, item);
        BiasedRc.incref(ts, item);
        Locks.lock(ts, list);
        try {
            long size = Raw.getLong(list + SIZE);
            long items = Raw.getLong(list + ITEMS);
            if (items == 0 || size == Objs.bufferCapacity(items)) {
                items = grow(ts, list, items, size);
            }
            Raw.putLongRelease(items + ObjectLayout.BUF_DATA + 8 * size, item);
            Raw.putLongRelease(list + SIZE, size + 1); // partner: get's acquire load of SIZE
        } finally {
            Locks.unlock(list);
        }
    }

    private static long grow(ThreadState ts, long list, long old, long size) {
        long capacity = old == 0 ? MIN_CAPACITY : Objs.bufferCapacity(old) * 2;
        long items = Objs.newBuffer(ts, capacity);
        if (old != 0) {
            Raw.copy(old + ObjectLayout.BUF_DATA, items + ObjectLayout.BUF_DATA, 8 * size);
        }
        Raw.putLongRelease(list + ITEMS, items); // partner: get's acquire load of ITEMS
        Objs.retireBuffer(ts, old);
        return items;
    }

    /** Replaces item {@code i} with a new reference to {@code item}; the old item's reference is dropped later. */
    public static void set(ThreadState ts, long list, long i, long item) {
        Objs.checkKind(ts, list, Kinds.LIST);
        Objs.check(ts, item);
        BiasedRc.incref(ts, item);
        long old;
        Locks.lock(ts, list);
        try {
            long size = Raw.getLong(list + SIZE);
            if (i < 0 || i >= size) {
                BiasedRc.decref(ts, item);
                throw new IndexOutOfBoundsException("list index " + i + " out of range 0.." + size);
            }
            long slot = Raw.getLong(list + ITEMS) + ObjectLayout.BUF_DATA + 8 * i;
            old = Raw.getLong(slot);
            Raw.putLongRelease(slot, item);
        } finally {
            Locks.unlock(list);
        }
        ts.decrefDelayed(old);
    }

    /** Removes the last item and returns a new reference to it. */
    public static long pop(ThreadState ts, long list) {
        Objs.checkKind(ts, list, Kinds.LIST);
        long item;
        Locks.lock(ts, list);
        try {
            long size = Raw.getLong(list + SIZE);
            if (size == 0) {
                throw new IndexOutOfBoundsException("pop from empty list");
            }
            long slot = Raw.getLong(list + ITEMS) + ObjectLayout.BUF_DATA + 8 * (size - 1);
            item = Raw.getLong(slot);
            Raw.putLongRelease(list + SIZE, size - 1);
            Raw.putLongRelease(slot, 0);
        } finally {
            Locks.unlock(list);
        }
        // the caller gets a reference of its own; the list's is kept for readers that loaded the slot already
        BiasedRc.incref(ts, item);
        ts.decrefDelayed(item);
        return item;
    }

    static void traverse(long list, LongProcedure visit) {
        long items = Raw.getLong(list + ITEMS);
        Objs.visitRefs(items + ObjectLayout.BUF_DATA, Raw.getLong(list + SIZE), visit);
    }

    /** GC only (world stopped): empties the list, dropping its references at once. */
    static void clear(ThreadState ts, long list) {
        long items = Raw.getLong(list + ITEMS);
        long size = Raw.getLong(list + SIZE);
        Raw.putLong(list + SIZE, 0);
        Raw.putLong(list + ITEMS, 0);
        for (long i = 0; i < size; i++) {
            long item = Raw.getLong(items + ObjectLayout.BUF_DATA + 8 * i);
            if (item != 0) {
                BiasedRc.decref(ts, item);
            }
        }
        Objs.freeBuffer(ts, items);
    }

    /** The list is dead: nobody holds it, so nobody reads it; items are dropped and the buffer freed at once. */
    static void dealloc(ThreadState ts, long list) {
        clear(ts, list);
    }
}
