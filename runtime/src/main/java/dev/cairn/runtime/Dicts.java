package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import org.eclipse.collections.api.block.procedure.primitive.LongProcedure;

/**
 * Hash maps with str or int keys, read without locks (docs/design/runtime.md §4).
 *
 * <p>Layout: payload 40 long used (live entries), 48 long table (a buffer of {@code capacity} entries of three
 * longs: hash, key, value; capacity a power of two), 56 long filled (entries with a key, live or deleted). Open
 * addressing with linear probing; a deleted entry keeps its key with value 0 (a tombstone) until the next resize.
 *
 * <p>Protocol. Writers hold the dict's mutex. A new entry is written hash, value, then key (release): a reader that
 * acquires a key sees its hash and first value. A value is replaced with a release store; the old value's reference
 * is dropped after a grace period ({@link ThreadState#decrefDelayed}), as is a deleted entry's value. A resize builds
 * a new table of the live entries, publishes it (release), and retires the old one with {@code freeDelayed}; its
 * tombstone keys are dropped after a grace period too. Readers load the table (acquire), probe, acquire each key,
 * compare (key objects stay alive while any table a reader can hold references them), acquire the value, and incref
 * it. Invariant: the table is never more than 2/3 filled, so every probe ends at an empty entry.
 */
public final class Dicts {

    static final long USED = ObjectLayout.HEADER_SIZE;
    static final long TABLE = USED + 8;
    static final long FILLED = USED + 16;
    private static final long ENTRY = 24;
    private static final long MIN_CAPACITY = 8;

    private Dicts() {
    }

    public static long create(ThreadState ts) {
        ts.checkUsable();
        return Objs.createEmpty(ts, ts.interp.runtime.builtins.dictType, 24);
    }

    public static long size(ThreadState ts, long dict) {
        Objs.checkKind(ts, dict, Kinds.DICT);
        return Raw.getLongAcquire(dict + USED);
    }

    /** A new reference to the value of {@code key}, or 0 when absent; lock-free. */
    public static long get(ThreadState ts, long dict, long key) {
        Objs.checkKind(ts, dict, Kinds.DICT);
        long hash = keyHash(ts, key);
        long table = Raw.getLongAcquire(dict + TABLE);
        if (table == 0) {
            return 0;
        }
        long e = find(table, key, hash);
        if (e == 0) {
            return 0;
        }
        long value = Raw.getLongAcquire(e + 16);
        Debug.readWindow();
        if (value != 0) {
            BiasedRc.incref(ts, value);
        }
        return value;
    }

    /** Maps {@code key} to a new reference to {@code value}. */
    public static void put(ThreadState ts, long dict, long key, long value) {
        Objs.checkKind(ts, dict, Kinds.DICT);
        long hash = keyHash(ts, key);
        Objs.check(ts, value);
        BiasedRc.incref(ts, value);
        long old = 0;
        Locks.lock(ts, dict);
        try {
            long table = Raw.getLong(dict + TABLE);
            long e = table == 0 ? 0 : find(table, key, hash);
            if (e != 0) {
                old = Raw.getLong(e + 16);
                Raw.putLongRelease(e + 16, value);
                if (old == 0) {
                    Raw.putLongRelease(dict + USED, Raw.getLong(dict + USED) + 1);
                }
            } else {
                if (table == 0 || (Raw.getLong(dict + FILLED) + 1) * 3 > capacity(table) * 2) {
                    table = resize(ts, dict, table);
                }
                BiasedRc.incref(ts, key);
                e = emptySlot(table, hash);
                Raw.putLong(e, hash);
                Raw.putLong(e + 16, value);
                Raw.putLongRelease(e + 8, key); // partner: find's acquire load of the key
                Raw.putLong(dict + FILLED, Raw.getLong(dict + FILLED) + 1);
                Raw.putLongRelease(dict + USED, Raw.getLong(dict + USED) + 1);
            }
        } finally {
            Locks.unlock(dict);
        }
        if (old != 0) {
            ts.decrefDelayed(old);
        }
    }

    /** Removes {@code key}; returns whether it was present. */
    public static boolean remove(ThreadState ts, long dict, long key) {
        Objs.checkKind(ts, dict, Kinds.DICT);
        long hash = keyHash(ts, key);
        long old;
        Locks.lock(ts, dict);
        try {
            long table = Raw.getLong(dict + TABLE);
            long e = table == 0 ? 0 : find(table, key, hash);
            if (e == 0 || (old = Raw.getLong(e + 16)) == 0) {
                return false;
            }
            Raw.putLongRelease(e + 16, 0);
            Raw.putLongRelease(dict + USED, Raw.getLong(dict + USED) - 1);
        } finally {
            Locks.unlock(dict);
        }
        ts.decrefDelayed(old);
        return true;
    }

    private static long capacity(long table) {
        return Objs.bufferCapacity(table) / 3;
    }

    /** The entry holding a key equal to {@code key}, or 0. Readers and writers alike. */
    private static long find(long table, long key, long hash) {
        long cap = capacity(table);
        long mask = cap - 1;
        long base = table + ObjectLayout.BUF_DATA;
        for (long i = hash & mask, n = 0; n < cap; i = (i + 1) & mask, n++) {
            long e = base + i * ENTRY;
            long k = Raw.getLongAcquire(e + 8);
            if (k == 0) {
                return 0;
            }
            if (Raw.getLong(e) == hash && keysEqual(k, key)) {
                return e;
            }
        }
        return 0;
    }

    private static long emptySlot(long table, long hash) {
        long mask = capacity(table) - 1;
        long base = table + ObjectLayout.BUF_DATA;
        for (long i = hash & mask;; i = (i + 1) & mask) {
            long e = base + i * ENTRY;
            if (Raw.getLong(e + 8) == 0) {
                return e;
            }
        }
    }

    /** Writer only: a table for the live entries with room to grow; the old one and its tombstones retire. */
    private static long resize(ThreadState ts, long dict, long old) {
        long used = Raw.getLong(dict + USED);
        long cap = MIN_CAPACITY;
        while ((used + 1) * 3 > cap) {
            cap *= 2;
        }
        long table = Objs.newBuffer(ts, cap * 3);
        if (old != 0) {
            long oldCap = capacity(old);
            for (long i = 0; i < oldCap; i++) {
                long e = old + ObjectLayout.BUF_DATA + i * ENTRY;
                long k = Raw.getLong(e + 8);
                if (k == 0) {
                    continue;
                }
                long v = Raw.getLong(e + 16);
                if (v == 0) {
                    ts.decrefDelayed(k); // a tombstone: readers of the old table may still compare this key
                    continue;
                }
                long ne = emptySlot(table, Raw.getLong(e));
                Raw.putLong(ne, Raw.getLong(e));
                Raw.putLong(ne + 16, v);
                Raw.putLong(ne + 8, k);
            }
        }
        Raw.putLong(dict + FILLED, used);
        Raw.putLongRelease(dict + TABLE, table); // partner: get's acquire load of TABLE
        Objs.retireBuffer(ts, old);
        return table;
    }

    private static long keyHash(ThreadState ts, long key) {
        Objs.check(ts, key);
        return switch (Kinds.kindOf(key)) {
            case Kinds.STR -> Strs.hashRaw(key);
            case Kinds.INT -> Ints.hash(Ints.valueRaw(key));
            default -> throw new IllegalArgumentException("dict keys are str or int, not " + Types.nameOf(key));
        };
    }

    private static boolean keysEqual(long a, long b) {
        if (a == b) {
            return true;
        }
        int kind = Kinds.kindOf(a);
        if (kind != Kinds.kindOf(b)) {
            return false;
        }
        return kind == Kinds.STR ? Strs.equalRaw(a, b) : Ints.valueRaw(a) == Ints.valueRaw(b);
    }

    /** Visits keys and live values. */
    static void traverse(long dict, LongProcedure visit) {
        visitEntries(Raw.getLong(dict + TABLE), visit);
    }

    /** GC or dealloc only (no reader): drops every key and value at once and frees the table. */
    static void clear(ThreadState ts, long dict) {
        long table = Raw.getLong(dict + TABLE);
        Raw.putLong(dict + TABLE, 0);
        Raw.putLong(dict + USED, 0);
        Raw.putLong(dict + FILLED, 0);
        visitEntries(table, ref -> BiasedRc.decref(ts, ref));
        Objs.freeBuffer(ts, table);
    }

    /** Visits each entry's key, then its value if live (not a tombstone); no table (0) has none. */
    private static void visitEntries(long table, LongProcedure visit) {
        if (table == 0) {
            return;
        }
        long cap = capacity(table);
        for (long i = 0; i < cap; i++) {
            long e = table + ObjectLayout.BUF_DATA + i * ENTRY;
            long k = Raw.getLong(e + 8);
            if (k != 0) {
                visit.value(k);
                long v = Raw.getLong(e + 16);
                if (v != 0) {
                    visit.value(v);
                }
            }
        }
    }

    static void dealloc(ThreadState ts, long dict) {
        clear(ts, dict);
    }
}
