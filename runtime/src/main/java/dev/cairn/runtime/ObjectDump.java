package dev.cairn.runtime;

import static dev.cairn.runtime.internal.ObjectLayout.OB_REF_LOCAL;
import static dev.cairn.runtime.internal.ObjectLayout.OB_REF_SHARED;
import static dev.cairn.runtime.internal.ObjectLayout.OB_TID;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.DumpOptions;
import dev.cairn.alloc.DumpSection;
import dev.cairn.alloc.DumpSink;
import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.eclipse.collections.api.list.primitive.MutableLongList;
import org.eclipse.collections.impl.list.mutable.primitive.LongArrayList;
import org.eclipse.collections.impl.map.mutable.primitive.LongIntHashMap;
import org.eclipse.collections.impl.map.mutable.primitive.LongLongHashMap;

/**
 * Heap dumps of an interpreter ({@link Interpreter#dumpHeap}): the allocator's dump plus the runtime's OBJECTS
 * section, kind {@value #KIND}, written through the allocator's {@link DumpSection} extension point. Byte layout:
 * {@code docs/heap-dump-format.md}, "OBJECTS"; the reader is {@code tools/.../heapdump/ObjectsParser}.
 *
 * <pre>
 * head     u64 interpreter id | u32 interpreter slot | u32 interpreters on the allocator (all stopped)
 * types    u32 count | u32 fixedSize (32) | per type, by address:
 *          u64 address | u32 flags (the type object's ob_flags low byte) | i32 type id | u32 kind of its instances
 *          | u32 interpreter slot | u64 thread references (heap types: unmerged per-thread counts) | string name
 * objects  u32 count | u32 fixedSize (48) | per object, by address:
 *          u64 address | u64 block size | u64 ob_tid | u64 ob_ref_shared | u32 ob_ref_local | u32 type index
 *          | u32 ob_interp | u8 flags | u8 gc bits | u16 0
 * </pre>
 *
 * <p>Consistency: every interpreter on the dumped allocator is stopped (one pause each, in id order, as
 * {@link Runtime#stopTheWorld()} takes them) before the blocks are walked and stays stopped until the allocator has
 * written the whole file. Objects change only in attached threads, which are all stopped, so the records and the
 * allocator's pages show the same moment. Counts are written as stored: objects queued to their owner and delayed
 * decrefs are not merged first (a dump changes nothing), and a heap type's count is its merged count plus the
 * thread references of its type record.
 */
final class ObjectDump implements DumpSection {

    static final int KIND = 0x100;
    static final int TYPE_FIXED = 32;
    static final int OBJECT_FIXED = 48;

    private final Interpreter interp;
    private final int interpreters;
    /** Object addresses, ascending. */
    private final LongArrayList objects;
    /** Object address → usable size of its block. */
    private final LongLongHashMap sizes;
    /** Type addresses, ascending; a type's index is its position. */
    private final MutableLongList types;
    private final LongIntHashMap typeIndex;
    /** Type address → the sum of the stopped threads' unmerged counts of that heap type. */
    private final LongLongHashMap threadRefs;

    private ObjectDump(Interpreter interp, List<Interpreter> sharers) {
        this.interp = interp;
        this.interpreters = sharers.size();
        objects = new LongArrayList();
        sizes = new LongLongHashMap();
        // no allocation or free may happen in the walk: it only records (Gc.findCandidates does the same)
        interp.allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
            if (ObjectLayout.blockKind(address) == ObjectLayout.KIND_OBJECT) {
                objects.add(address);
                sizes.put(address, usable);
            }
            return true;
        });
        objects.sortThis(); // user-space addresses are below 2^63: signed order is address order
        LongArrayList found = new LongArrayList();
        for (int i = 0; i < objects.size(); i++) {
            long obj = objects.get(i);
            found.add(ObjectLayout.type(obj));
            if (Kinds.kindOf(obj) == Kinds.TYPE) {
                found.add(obj); // a type without instances still gets its row
            }
        }
        types = found.distinct().sortThis();
        typeIndex = new LongIntHashMap(types.size());
        threadRefs = new LongLongHashMap();
        for (int i = 0; i < types.size(); i++) {
            long type = types.get(i);
            typeIndex.put(type, i);
            if (Types.isHeapType(type)) {
                threadRefs.put(type, threadRefs(type, sharers));
            }
        }
    }

    /** The unmerged per-thread references to a heap type: its interpreter's threads are stopped, so readable. */
    private static long threadRefs(long type, List<Interpreter> sharers) {
        int id = Raw.getInt(type + Types.TYPE_ID);
        long sum = 0;
        for (Interpreter owner : sharers) {
            if (owner.slot == ObjectLayout.interpSlot(type)) {
                for (ThreadState ts : owner.threadsSnapshotLocked()) {
                    sum += ts.typeRefcounts.get(id);
                }
            }
        }
        return sum;
    }

    /**
     * Stops every interpreter on {@code interp}'s allocator (unless the caller already holds all their pauses),
     * collects the objects, writes the dump and starts them again.
     */
    static void write(Interpreter interp, Path path, DumpOptions options) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        interp.checkLive();
        List<Interpreter> sharers = sharers(interp.runtime, interp.allocator);
        Thread me = Thread.currentThread();
        long held = sharers.stream().filter(i -> i.stw.stoppedBy(me)).count();
        if (held != 0 && held != sharers.size()) {
            // stopping the rest now could take pauses out of id order and deadlock with a runtime-wide stop
            throw new IllegalStateException("the calling thread holds the pause of " + held + " of the "
                    + sharers.size() + " interpreters on this allocator: stop all of them (Runtime.stopTheWorld) or"
                    + " none before dumping");
        }
        List<Interpreter> stopped = new ArrayList<>();
        // attached in an interpreter we do not stop, we could wait for a thread that waits there for us: detached
        // there for the dump, as Interpreter.stopTheWorld does
        ThreadState current = interp.runtime.current();
        ThreadState elsewhere = held == 0 && current != null && !sharers.contains(current.interp) ? current : null;
        if (elsewhere != null) {
            elsewhere.detach();
        }
        try {
            if (held == 0) {
                for (Interpreter other : sharers) {
                    other.stw.lockDetached();
                    other.stw.stopLocked();
                    stopped.add(other);
                }
            }
            // destroyed while we waited for its pause: destruction frees (and unmaps an own allocator) inside it
            interp.checkLive();
            interp.allocator.dumpHeap(path, options.withSection(new ObjectDump(interp, sharers)));
        } finally {
            for (int i = stopped.size() - 1; i >= 0; i--) {
                stopped.get(i).stw.startLocked();
                stopped.get(i).stw.mutex.unlock();
            }
            if (elsewhere != null) {
                elsewhere.attach(false);
            }
        }
    }

    /** The live interpreters whose objects live in {@code allocator}, by id (the order pauses are taken in). */
    private static List<Interpreter> sharers(Runtime runtime, Allocator allocator) {
        List<Interpreter> out = new ArrayList<>();
        for (Interpreter other : runtime.interpreters()) {
            if (other.allocator == allocator && !other.isDestroyed()) {
                out.add(other);
            }
        }
        return out;
    }

    @Override
    public int kind() {
        return KIND;
    }

    @Override
    public void write(DumpSink out) throws IOException {
        out.u64(interp.id()).u32(interp.slot).u32(interpreters);
        out.u32(types.size()).u32(TYPE_FIXED);
        for (int i = 0; i < types.size(); i++) {
            long type = types.get(i);
            out.u64(type).u32(ObjectLayout.flags(type)).u32(Raw.getInt(type + Types.TYPE_ID))
                    .u32(Raw.getInt(type + Types.TYPE_KIND)).u32(ObjectLayout.interpSlot(type))
                    .u64(threadRefs.getIfAbsent(type, 0)).string(Types.typeNameRaw(type));
        }
        out.u32(objects.size()).u32(OBJECT_FIXED);
        for (int i = 0; i < objects.size(); i++) {
            long obj = objects.get(i);
            out.u64(obj).u64(sizes.get(obj)).u64(Raw.getLong(obj + OB_TID)).u64(Raw.getLong(obj + OB_REF_SHARED))
                    .u32(Raw.getInt(obj + OB_REF_LOCAL)).u32(typeIndex.get(ObjectLayout.type(obj)))
                    .u32(ObjectLayout.interpSlot(obj)).u8(ObjectLayout.flags(obj)).u8(ObjectLayout.gcBits(obj)).u16(0);
        }
    }
}
