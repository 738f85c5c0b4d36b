package dev.cairn.runtime;

import static dev.cairn.runtime.internal.ObjectLayout.FLAG_PER_THREAD_RC;
import static dev.cairn.runtime.internal.ObjectLayout.IMMORTAL_LOCAL;
import static dev.cairn.runtime.internal.ObjectLayout.OB_FLAGS;
import static dev.cairn.runtime.internal.ObjectLayout.OB_REF_LOCAL;
import static dev.cairn.runtime.internal.ObjectLayout.OB_REF_SHARED;
import static dev.cairn.runtime.internal.ObjectLayout.OB_TID;
import static dev.cairn.runtime.internal.ObjectLayout.SHARED_FLAGS_MASK;
import static dev.cairn.runtime.internal.ObjectLayout.SHARED_MERGED;
import static dev.cairn.runtime.internal.ObjectLayout.SHARED_QUEUED;
import static dev.cairn.runtime.internal.ObjectLayout.SHARED_SHIFT;

import dev.cairn.segments.raw.Raw;


/**
 * Biased reference counting (CPython's brc.c / refcount.h; docs/design/runtime.md §3).
 *
 * <p>Protocol. An object is biased to the thread that made it ({@code ob_tid}). That thread counts in
 * {@code ob_ref_local} with plain loads and stores; every other thread adds to {@code ob_ref_shared} atomically (the
 * count sits above two flag bits). The true count is local + (shared &gt;&gt; 2); either half may be lopsided, the
 * shared one even negative. Zero crossings:
 * <ol>
 * <li>Owner's local count reaches 0: if shared is 0 the object dies; else the owner gives up its bias (tid := 0,
 *     before the CAS, as CPython orders it) and sets MERGED; if that leaves shared exactly MERGED the object dies.</li>
 * <li>A non-owner's decref finds shared == 0 (count 0, no flag): it cannot know the local count, so instead of going
 *     negative it sets QUEUED (keeping its reference "in the queue") and hands the object to the owner
 *     ({@link BrcQueues#enqueue}); the owner merges at its next checkpoint with −1 ({@link #explicitMerge}). If the
 *     owner has gone (thread ids are never reused), the finder merges it itself.</li>
 * <li>Any decref that leaves shared == MERGED (count 0, merged) frees the object.</li>
 * </ol>
 * An owner whose local count reaches 0 while shared is exactly QUEUED (count 0) has found one decref too many:
 * the queued reference is put back in local instead of freeing (checked allocators also throw), so the queue's
 * merge frees the object once rather than touching a freed block.
 * Invariants: merged ⇒ tid == 0 and local == 0; an object is queued at most once (QUEUED stays set until MERGED);
 * only the owner, or the merger of a dead or stopped owner, writes local.
 *
 * <p>The owner test comes first: immortal objects ({@code local == IMMORTAL_LOCAL}, tid 0) never match it and are
 * skipped at the top of the non-owner paths; an owner's count that reaches IMMORTAL_LOCAL makes the object
 * immortal (tid := 0). Heap types
 * ({@link dev.cairn.runtime.internal.ObjectLayout#FLAG_PER_THREAD_RC}, tid 0) take the non-owner branch and count in
 * the calling thread's array ({@link TypeRefcounts}) instead of the shared word.
 */
final class BiasedRc {

    private static final long ONE = 1L << SHARED_SHIFT;

    private BiasedRc() {
    }

    static void incref(ThreadState ts, long obj) {
        // owner id first: immortals and heap types have id 0, so the owner's path needs no immortal test
        if (Raw.getLong(obj + OB_TID) == ts.id) {
            int local = Raw.getInt(obj + OB_REF_LOCAL) + 1;
            Raw.putInt(obj + OB_REF_LOCAL, local);
            if (local == IMMORTAL_LOCAL) {
                overflowToImmortal(obj);
            }
            return;
        }
        increfOther(ts, obj);
    }

    /** 2^32 - 1 local references: the object becomes immortal (leaked), as CPython does on overflow. */
    private static void overflowToImmortal(long obj) {
        Raw.putLongVolatile(obj + OB_TID, 0);
    }

    private static void increfOther(ThreadState ts, long obj) {
        if (Raw.getInt(obj + OB_REF_LOCAL) == IMMORTAL_LOCAL) {
            return;
        }
        if ((Raw.getShort(obj + OB_FLAGS) & FLAG_PER_THREAD_RC) != 0) {
            ts.typeRefcounts.add(obj, 1);
            return;
        }
        Raw.getAndAddLong(obj + OB_REF_SHARED, ONE);
    }

    static void decref(ThreadState ts, long obj) {
        if (Raw.getLong(obj + OB_TID) == ts.id) {
            int local = Raw.getInt(obj + OB_REF_LOCAL) - 1;
            Raw.putInt(obj + OB_REF_LOCAL, local);
            if (local == 0) {
                mergeZeroLocal(ts, obj);
            }
            return;
        }
        decrefOther(ts, obj);
    }

    /** Case 1 of the protocol: the owner's local count reached zero. */
    private static void mergeZeroLocal(ThreadState ts, long obj) {
        long shared = Raw.getLongVolatile(obj + OB_REF_SHARED);
        if (shared == 0) {
            ts.dealloc(obj);
            return;
        }
        if (shared == SHARED_QUEUED) {
            // count zero while a non-owner's reference still waits in our merge queue: one decref too many. Freed
            // now, the queue's merge would later write into the freed block, or into the object that reuses it
            // (and free that one). The queue's reference is put back in local, so its merge frees the object, once.
            Raw.putInt(obj + OB_REF_LOCAL, 1);
            if (ts.checked) {
                throw new IllegalStateException("reference count of 0x" + Long.toHexString(obj)
                        + " went below zero (one more decref than references, the last by another thread)");
            }
            return;
        }
        // give up the bias before publishing MERGED: a non-owner seeing MERGED must not find us as owner
        ts.proven.forget(obj); // another thread may free it from now on
        Raw.putLongVolatile(obj + OB_TID, 0);
        long merged;
        do {
            shared = Raw.getLongVolatile(obj + OB_REF_SHARED);
            merged = shared | SHARED_MERGED;
        } while (!Raw.casLong(obj + OB_REF_SHARED, shared, merged));
        if (merged == SHARED_MERGED) {
            ts.dealloc(obj);
        }
    }

    /** Cases 2 and 3: a decref by a thread other than the owner. */
    private static void decrefOther(ThreadState ts, long obj) {
        if (Raw.getInt(obj + OB_REF_LOCAL) == IMMORTAL_LOCAL) {
            return;
        }
        if ((Raw.getShort(obj + OB_FLAGS) & FLAG_PER_THREAD_RC) != 0) {
            ts.typeRefcounts.add(obj, -1);
            return;
        }
        long shared;
        long next;
        boolean queue;
        do {
            shared = Raw.getLongVolatile(obj + OB_REF_SHARED);
            queue = shared == 0;
            next = queue ? SHARED_QUEUED : shared - ONE;
        } while (!Raw.casLong(obj + OB_REF_SHARED, shared, next));
        if (queue) {
            ts.interp.brc.enqueue(ts, obj);
        } else if (next == SHARED_MERGED) {
            ts.dealloc(obj);
        }
    }

    /**
     * Merges both halves into the shared word (tid := 0, local := 0, MERGED) adding {@code extra}; returns the new
     * true count (-1 for an immortal, left as it is). Only for the owner, or for anyone once the owner is gone or
     * stopped.
     */
    static long explicitMerge(long obj, long extra) {
        int local = Raw.getInt(obj + OB_REF_LOCAL);
        if (local == IMMORTAL_LOCAL) {
            return -1; // overflowed while a reference waited in its owner's queue: immortal now, never merged
        }
        Raw.putInt(obj + OB_REF_LOCAL, 0);
        Raw.putLongVolatile(obj + OB_TID, 0);
        long shared;
        long count;
        do {
            shared = Raw.getLongVolatile(obj + OB_REF_SHARED);
            count = (shared >> SHARED_SHIFT) + local + extra;
        } while (!Raw.casLong(obj + OB_REF_SHARED, shared, (count << SHARED_SHIFT) | SHARED_MERGED));
        return count;
    }

    /** The true count (a snapshot: exact only when no other thread changes it). Immortals report -1. */
    static long refcount(long obj) {
        int local = Raw.getInt(obj + OB_REF_LOCAL);
        if (local == IMMORTAL_LOCAL) {
            return -1;
        }
        return Integer.toUnsignedLong(local) + (Raw.getLongVolatile(obj + OB_REF_SHARED) >> SHARED_SHIFT);
    }

    static boolean isQueued(long obj) {
        return (Raw.getLongVolatile(obj + OB_REF_SHARED) & SHARED_FLAGS_MASK) == SHARED_QUEUED;
    }
}
