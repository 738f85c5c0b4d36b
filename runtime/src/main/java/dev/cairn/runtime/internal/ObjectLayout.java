package dev.cairn.runtime.internal;

import dev.cairn.segments.raw.Raw;
import java.lang.invoke.VarHandle;

/**
 * The off-heap object header and the buffer header: offsets, encodings and the invariants they keep.
 *
 * <pre>
 * object block (16-byte aligned, from the interpreter's allocator)
 *  off size field        who writes it
 *   0   8   ob_tid       owner thread id (ThreadState.id, never reused); 0 = merged, immortal or per-thread counted
 *                        (then see FLAG_PER_THREAD_RC); written by the owner, or by whoever merges a dead
 *                        owner's object
 *   8   2   ob_flags     high byte: KIND_OBJECT magic; low byte: FLAG_* (set at creation, never changed later)
 *  10   1   ob_mutex     the object's one-byte lock (ObjectMutex): bit 0 LOCKED, bit 1 HAS_PARKED
 *  11   1   ob_gc_bits   GC_* bits: TRACKED at creation; COLLECTING/UNREACHABLE only while the world is stopped
 *  12   4   ob_ref_local owner-only count, plain stores; IMMORTAL_LOCAL (-1, i.e. UINT32_MAX) = immortal
 *  16   8   ob_ref_shared (count &lt;&lt; 2) | SHARED_* flag; atomic; the count may be negative while unmerged
 *  24   8   ob_type      address of the type object
 *  32   4   ob_interp    slot of the interpreter the object belongs to (0 = the runtime's immortals)
 *  36   4   ob_gc_refs   GC scratch (external reference count), meaningful only while the world is stopped
 *  40   ..  payload
 * </pre>
 * The first 32 bytes follow CPython's free-threaded header; {@code ob_interp} lets a walk of an allocator shared by
 * several interpreters pick this interpreter's objects, and {@code ob_gc_refs} keeps the GC from borrowing
 * {@code ob_tid} (CPython borrows it and restores it from the segment's thread id, which Cairn does not expose).
 *
 * <p>True reference count = local + (shared &gt;&gt; 2). Invariants: merged (flag SHARED_MERGED) ⇒ tid == 0 and
 * local == 0; immortal ⇒ local == IMMORTAL_LOCAL, tid == 0, shared == 0; unmerged mortal ⇒ tid != 0.
 *
 * <p>Buffer blocks (list item arrays, dict tables) start with a 16-byte header so that a heap walk can tell them
 * from objects: {@code [0] long capacity (elements)}, {@code [8] short kind} ({@link #KIND_BUFFER}, or
 * {@link #KIND_RETIRED} once handed to {@code freeDelayed}, {@link #KIND_XIDATA} for cross-interpreter data),
 * {@code [12] int interpreter slot}; data from 16. The
 * kind sits at offset 8 in both, so one 2-byte read classifies any block the runtime allocated.
 */
public final class ObjectLayout {

    public static final long OB_TID = 0;
    public static final long OB_FLAGS = 8;
    public static final long OB_MUTEX = 10;
    public static final long OB_GC_BITS = 11;
    public static final long OB_REF_LOCAL = 12;
    public static final long OB_REF_SHARED = 16;
    public static final long OB_TYPE = 24;
    public static final long OB_INTERP = 32;
    public static final long OB_GC_REFS = 36;
    public static final long HEADER_SIZE = 40;

    /** Magic in the high byte of {@code ob_flags} (objects) or of the buffer kind short. */
    public static final int KIND_MASK = 0xFF00;
    public static final int KIND_OBJECT = 0xC7_00;
    public static final int KIND_BUFFER = 0xB5_00;
    public static final int KIND_RETIRED = 0xB6_00;
    /** Cross-interpreter data: a buffer of the main allocator that belongs to no interpreter. */
    public static final int KIND_XIDATA = 0xB7_00;

    /** Never counted: incref and decref do nothing. */
    public static final int FLAG_IMMORTAL = 1;
    /** A heap type: counted in per-thread arrays indexed by its type id (see {@code TypeRefcounts}). */
    public static final int FLAG_PER_THREAD_RC = 2;

    public static final int GC_TRACKED = 1;
    /**
     * The allocator heap tag of GC-tracked objects ({@code Allocator.heap(int)}): they live in segments of their own,
     * so the collector finds them by walking that tag alone (CPython's GC heap). Everything else (untracked objects,
     * item buffers) comes from tag 0. Tracking is decided at creation and never changes.
     */
    public static final int GC_HEAP_TAG = 1;
    public static final int GC_COLLECTING = 2;
    public static final int GC_UNREACHABLE = 4;

    public static final int IMMORTAL_LOCAL = -1;

    /** Debug switch {@code cairn.runtime.yieldInInit} (see {@code Debug}): widens the window inside {@link #init}. */
    private static final boolean YIELD_IN_INIT = Boolean.getBoolean("cairn.runtime.yieldInInit");

    public static final long SHARED_QUEUED = 2;
    public static final long SHARED_MERGED = 3;
    public static final long SHARED_FLAGS_MASK = 3;
    public static final int SHARED_SHIFT = 2;

    public static final long BUF_CAPACITY = 0;
    public static final long BUF_KIND = 8;
    public static final long BUF_INTERP = 12;
    public static final long BUF_DATA = 16;

    private ObjectLayout() {
    }

    /** The kind magic of a runtime block: KIND_OBJECT, KIND_BUFFER, KIND_RETIRED, or something else. */
    public static int blockKind(long addr) {
        return Raw.getShort(addr + OB_FLAGS) & KIND_MASK;
    }

    public static int flags(long obj) {
        return Raw.getShort(obj + OB_FLAGS) & 0xFF;
    }

    public static int interpSlot(long obj) {
        return Raw.getInt(obj + OB_INTERP);
    }

    public static long type(long obj) {
        return Raw.getLong(obj + OB_TYPE);
    }

    public static int gcBits(long obj) {
        return Raw.getByte(obj + OB_GC_BITS) & 0xFF;
    }

    public static void setGcBits(long obj, int bits) {
        Raw.putByte(obj + OB_GC_BITS, (byte) bits);
    }

    /**
     * Writes a fresh header: owned by {@code tid} with one local reference. The magic goes last, after a release
     * fence: a heap walk of an allocator that other interpreters share runs while their threads make objects, and
     * a block this interpreter freed still holds its slot; a magic published first would show the walk another
     * interpreter's object under this one's slot (partner: {@link #blockKindAcquire}).
     */
    public static void init(long obj, long tid, long type, int interpSlot, int flags, boolean tracked) {
        Raw.putLong(obj + OB_TID, tid);
        Raw.putByte(obj + OB_MUTEX, (byte) 0);
        Raw.putByte(obj + OB_GC_BITS, (byte) (tracked ? GC_TRACKED : 0));
        Raw.putInt(obj + OB_REF_LOCAL, 1);
        Raw.putLong(obj + OB_REF_SHARED, 0);
        Raw.putLong(obj + OB_TYPE, type);
        Raw.putInt(obj + OB_INTERP, interpSlot);
        Raw.putInt(obj + OB_GC_REFS, 0);
        if (YIELD_IN_INIT) {
            Thread.yield();
        }
        VarHandle.releaseFence();
        Raw.putShort(obj + OB_FLAGS, (short) (KIND_OBJECT | flags));
    }

    /**
     * {@link #blockKind} for a walk that other threads' allocations may race with: what {@link #init} wrote
     * before the magic is visible once the magic is.
     */
    public static int blockKindAcquire(long addr) {
        int kind = blockKind(addr);
        VarHandle.acquireFence();
        return kind;
    }

    /** Makes a freshly initialised object immortal: never counted, owned by nobody. */
    public static void makeImmortal(long obj) {
        Raw.putLong(obj + OB_TID, 0);
        Raw.putShort(obj + OB_FLAGS, (short) (Raw.getShort(obj + OB_FLAGS) | FLAG_IMMORTAL));
        Raw.putInt(obj + OB_REF_LOCAL, IMMORTAL_LOCAL);
        Raw.putLong(obj + OB_REF_SHARED, 0);
        Raw.putByte(obj + OB_GC_BITS, (byte) 0);
    }
}
