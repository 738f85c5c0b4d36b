package dev.cairn.runtime;

import static dev.cairn.runtime.internal.ObjectLayout.HEADER_SIZE;
import static dev.cairn.runtime.internal.ObjectLayout.KIND_OBJECT;
import static dev.cairn.runtime.internal.ObjectLayout.OB_FLAGS;

import dev.cairn.alloc.Allocator;
import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import org.eclipse.collections.api.block.procedure.primitive.LongProcedure;

/**
 * Making, freeing and checking objects: the one place that turns allocator blocks into objects and back, and that
 * builds the exceptions for bad addresses; also the walks over an array of references that tuples, lists and
 * instances share. Package-private helpers for the typed APIs.
 */
final class Objs {

    private Objs() {
    }

    /**
     * A new object owned by {@code ts} with one reference, {@code payload} bytes after the header; a tracked one
     * from the GC heap, where the collector looks for them.
     */
    static long create(ThreadState ts, long type, long payload, boolean tracked) {
        long obj = (tracked ? ts.gcHeap : ts.heap).malloc(HEADER_SIZE + payload);
        ObjectLayout.init(obj, ts.id, type, ts.interp.slot, 0, tracked);
        ts.interp.objectsAllocated.increment();
        return obj;
    }

    /**
     * A new GC-tracked container whose {@code payload} bytes (a multiple of 8) are all 0: every container's empty
     * state (no item buffer, no table, empty slots).
     */
    static long createEmpty(ThreadState ts, long type, long payload) {
        long obj = create(ts, type, payload, true);
        for (long off = 0; off < payload; off += 8) {
            Raw.putLong(obj + HEADER_SIZE + off, 0);
        }
        return obj;
    }

    /** A runtime-wide immortal (interpreter slot 0) in the main allocator. */
    static long createImmortal(Allocator main, long type, long payload) {
        long obj = main.malloc(HEADER_SIZE + payload);
        ObjectLayout.init(obj, 0, type, 0, 0, false);
        ObjectLayout.makeImmortal(obj);
        return obj;
    }

    /** Returns the block of a dead object; its magic is wiped first so a stale address fails {@link #check}. */
    static void free(ThreadState ts, long obj) {
        ts.proven.forget(obj);
        Raw.putShort(obj + OB_FLAGS, (short) 0);
        ts.heap.free(obj);
        ts.interp.objectsFreed.increment();
    }

    /**
     * Checks that {@code ts} may be used now and that {@code obj} is a live object of its interpreter (or a
     * runtime immortal).
     */
    static void check(ThreadState ts, long obj) {
        // A hit in the memo proves the thread state usable too: it is emptied whenever the state leaves ATTACHED on
        // its own thread (ProvenObjects). A misaligned address could equal its empty mark: it never gets that far.
        if (Thread.currentThread() != ts.thread || (obj & 7) != 0 || !ts.proven.contains(obj)) {
            ts.checkUsable();
            prove(ts, obj);
        }
    }

    /** {@link #check}'s full proof; an object the thread owns, or an immortal, is remembered ({@link ProvenObjects}). */
    private static void prove(ThreadState ts, long obj) {
        if (obj == 0 || (obj & 7) != 0) {
            throw notAnObject(ts, obj, "null or misaligned");
        }
        Interpreter in = ts.interp;
        // A live block start proven by the allocator (checked mode), not just an address inside a live segment:
        // parts of a segment are not committed, and reading the magic there would crash the JVM.
        if (!in.allocator.isLive(obj)
                && (in.runtime.mainAllocator == in.allocator || !in.runtime.mainAllocator.isLive(obj))) {
            throw notAnObject(ts, obj, "not a live block of this interpreter's memory");
        }
        if (ObjectLayout.blockKind(obj) != KIND_OBJECT) {
            throw notAnObject(ts, obj, "no live object there (freed, or not an object)");
        }
        int slot = ObjectLayout.interpSlot(obj);
        if (slot != 0 && slot != in.slot) {
            throw notAnObject(ts, obj, "it belongs to another interpreter");
        }
        if (Raw.getLong(obj + ObjectLayout.OB_TID) == ts.id
                || (ObjectLayout.flags(obj) & ObjectLayout.FLAG_IMMORTAL) != 0) {
            ts.proven.add(obj);
        }
    }

    /** {@link #check} plus the object's kind. */
    static void checkKind(ThreadState ts, long obj, int kind) {
        check(ts, obj);
        int actual = Kinds.kindOf(obj);
        if (actual != kind) {
            throw new IllegalArgumentException("expected " + Kinds.name(kind) + ", got " + Types.nameOf(obj)
                    + " at 0x" + Long.toHexString(obj));
        }
    }

    static IllegalArgumentException notAnObject(ThreadState ts, long obj, String why) {
        return new IllegalArgumentException("0x" + Long.toHexString(obj) + " is not an object of interpreter "
                + ts.interp.id() + ": " + why);
    }

    /** Visits the non-empty references of an array of {@code n} object addresses at {@code first} (tp_traverse). */
    static void visitRefs(long first, long n, LongProcedure visit) {
        for (long i = 0; i < n; i++) {
            long ref = Raw.getLong(first + 8 * i);
            if (ref != 0) {
                visit.value(ref);
            }
        }
    }

    /**
     * Empties an array of {@code n} object addresses at {@code first}, dropping each reference (tp_clear); a slot is
     * zeroed before its reference drops, so nothing that decref frees can be reached from the array.
     */
    static void clearRefs(ThreadState ts, long first, long n) {
        for (long i = 0; i < n; i++) {
            long ref = Raw.getLong(first + 8 * i);
            if (ref != 0) {
                Raw.putLong(first + 8 * i, 0);
                BiasedRc.decref(ts, ref);
            }
        }
    }

    /** A buffer block of {@code capacity} 8-byte elements (zeroed), tagged for heap walks. */
    static long newBuffer(ThreadState ts, long capacity) {
        long buf = ts.heap.calloc(1, ObjectLayout.BUF_DATA + capacity * 8);
        Raw.putLong(buf + ObjectLayout.BUF_CAPACITY, capacity);
        Raw.putShort(buf + ObjectLayout.BUF_KIND, (short) ObjectLayout.KIND_BUFFER);
        Raw.putInt(buf + ObjectLayout.BUF_INTERP, ts.interp.slot);
        return buf;
    }

    static long bufferCapacity(long buf) {
        return Raw.getLong(buf + ObjectLayout.BUF_CAPACITY);
    }

    /**
     * Gives up a buffer that lock-free readers may still be reading: retagged RETIRED (so walks skip it) and freed
     * after a grace period, or at once while this thread holds the world stopped.
     */
    static void retireBuffer(ThreadState ts, long buf) {
        if (buf == 0) {
            return;
        }
        Raw.putShort(buf + ObjectLayout.BUF_KIND, (short) ObjectLayout.KIND_RETIRED);
        if (ts.interp.stw.stoppedBy(Thread.currentThread())) {
            ts.heap.free(buf);
        } else {
            ts.interp.allocator.freeDelayed(buf);
        }
    }

    /** Frees a buffer nobody else can read (its container is dead). */
    static void freeBuffer(ThreadState ts, long buf) {
        if (buf != 0) {
            Raw.putShort(buf + ObjectLayout.BUF_KIND, (short) 0);
            ts.heap.free(buf);
        }
    }
}
