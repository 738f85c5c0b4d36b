package dev.cairn.runtime;

import static dev.cairn.runtime.internal.ObjectLayout.GC_COLLECTING;
import static dev.cairn.runtime.internal.ObjectLayout.GC_TRACKED;
import static dev.cairn.runtime.internal.ObjectLayout.GC_UNREACHABLE;
import static dev.cairn.runtime.internal.ObjectLayout.OB_GC_REFS;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import org.eclipse.collections.impl.list.mutable.primitive.LongArrayList;

/**
 * The cycle collector (CPython's gc_free_threading.c, without generations or finalizers; docs/design/runtime.md §6).
 *
 * <p>Steps, all with the interpreter's world stopped by the collecting thread:
 * <ol>
 * <li>Make counts exact: reap the thread states of threads that ended without closing them ({@link ThreadReaper}),
 *     merge heap-type counts, run delayed decrefs (no reader is between quiescent points while stopped), then merge
 *     every thread's biased-RC queue, again until all are empty (the collector's decrefs and the deaths they cause
 *     queue objects to owners it may have merged already).</li>
 * <li>Find the candidates by walking the allocator's GC heaps ({@code visitBlocks} of
 *     {@link ObjectLayout#GC_HEAP_TAG}, where every tracked object is allocated): objects of this interpreter that
 *     are GC-tracked (containers). There is no object list, and the walk reads no segment of untracked objects or
 *     buffers; it only records addresses (no allocation or free may happen during it), and the work happens after
 *     it.</li>
 * <li>{@code gc_refs} := true count; then for every reference from a candidate to a candidate, decrement the
 *     target's {@code gc_refs}. What stays above zero is referenced from outside (Java code, non-candidates, other
 *     threads' locals) and is a root.</li>
 * <li>Mark everything reachable from the roots; the rest is unreachable: garbage cycles.</li>
 * <li>Each garbage object is merged with +1 (the collector's own reference, so none dies while others are
 *     cleared), cleared (its references dropped), then released: each then dies by ordinary refcounting.</li>
 * <li>Objects that clearing queued to their owners (decrefs by the collector are non-owner decrefs) are merged
 *     on the stopped owners' behalf, so that they die inside this collection.</li>
 * <li>Heap types whose merged count is zero die (the collector's own heap-type counts, which the deaths above
 *     changed, are merged first; a dead type's name queued to its stopped owner is merged too).</li>
 * </ol>
 * The GC bits COLLECTING and UNREACHABLE and the {@code ob_gc_refs} field are used only inside the pause and are
 * clear outside it.
 */
public final class Gc {

    private Gc() {
    }

    /**
     * Collects {@code ts}'s interpreter; returns how many objects died. {@code ts} must be attached. A caller that
     * holds the interpreter's world stopped ({@link Interpreter#stopTheWorld()}, {@link Runtime#stopTheWorld()})
     * collects inside its own pause and keeps it.
     */
    public static long collect(ThreadState ts) {
        ts.checkUsable();
        Interpreter interp = ts.interp;
        // starting the world at the end would end the caller's own pause under it, its locks still held
        boolean ownPause = interp.stw.stoppedBy(Thread.currentThread());
        if (!ownPause) {
            interp.stopTheWorld();
        }
        long before = interp.objectsFreed.sum();
        long freed;
        try {
            makeCountsExact(ts);
            LongArrayList candidates = findCandidates(interp);
            computeGcRefs(candidates);
            LongArrayList garbage = markAndSweep(candidates);
            freeGarbage(ts, garbage);
            // clearing queued non-container objects to their (stopped) owners: merge them now, on their behalf
            drainAll(ts);
            // the instances that died above dropped their types' references into this thread's array (every
            // dealloc of this collection runs here); unmerged, a type whose last instance died in a cycle would
            // outlive this collection, and at destruction be reported as leaked
            ts.typeRefcounts.mergeInto(interp.typeIds);
            freeDeadHeapTypes(ts);
            // a dead type's name may have been queued to its stopped owner: let it die inside this collection too
            drainAll(ts);
            // still stopped: once the world runs, other threads' frees would count as ours
            freed = interp.objectsFreed.sum() - before;
            // what died here was any thread's: no memo may still name it (ProvenObjects)
            for (ThreadState other : interp.threadsSnapshotLocked()) {
                other.proven.clear();
            }
        } finally {
            if (!ownPause) {
                interp.startTheWorld();
            }
        }
        return freed;
    }

    private static void makeCountsExact(ThreadState ts) {
        Interpreter interp = ts.interp;
        ThreadReaper.reapDead(ts); // we hold the pause, so a dead state is ATTACHED or SUSPENDED by us, never moving
        // the delayed decrefs first: ours are non-owner decrefs, which queue objects to their owners, and an object
        // left queued counts the queued reference as held (a cycle it ends would be taken for referenced)
        for (ThreadState other : interp.threadsSnapshotLocked()) {
            other.typeRefcounts.mergeInto(interp.typeIds);
            other.delayed.processAll(ts);
        }
        interp.processOrphans(ts, true);
        drainAll(ts);
    }

    /**
     * Merges every thread's queue until all are empty: an object that dies in a merge drops its references, which
     * may queue objects to owners whose queues were merged before it.
     */
    private static void drainAll(ThreadState ts) {
        Interpreter interp = ts.interp;
        int died;
        do {
            died = 0;
            for (ThreadState other : interp.threadsSnapshotLocked()) {
                died += interp.brc.drain(other, ts);
            }
        } while (died != 0);
    }

    private static LongArrayList findCandidates(Interpreter interp) {
        LongArrayList out = new LongArrayList();
        int slot = interp.slot;
        interp.allocator.visitBlocks(ObjectLayout.GC_HEAP_TAG, (address, usable, sizeClass, heapId) -> {
            // other interpreters on this allocator run meanwhile: see ObjectLayout.init
            if (ObjectLayout.blockKindAcquire(address) == ObjectLayout.KIND_OBJECT
                    && ObjectLayout.interpSlot(address) == slot
                    && (ObjectLayout.gcBits(address) & GC_TRACKED) != 0) {
                out.add(address);
            }
            return true;
        });
        LongArrayList candidates = new LongArrayList(out.size());
        for (int i = 0; i < out.size(); i++) {
            long obj = out.get(i);
            // immortal (a count that overflowed: -1 here) or past what gc_refs holds: referenced from outside for
            // sure, so left out; its references then count as outside ones, which keeps what it holds alive
            long count = BiasedRc.refcount(obj);
            if (count >= 0 && count <= Integer.MAX_VALUE) {
                ObjectLayout.setGcBits(obj, GC_TRACKED | GC_COLLECTING | GC_UNREACHABLE);
                candidates.add(obj);
            }
        }
        return candidates;
    }

    private static void computeGcRefs(LongArrayList candidates) {
        for (int i = 0; i < candidates.size(); i++) {
            long obj = candidates.get(i);
            Raw.putInt(obj + OB_GC_REFS, (int) BiasedRc.refcount(obj)); // in range: see findCandidates
        }
        for (int i = 0; i < candidates.size(); i++) {
            Kinds.traverse(candidates.get(i), child -> {
                if ((ObjectLayout.gcBits(child) & GC_COLLECTING) != 0) {
                    Raw.putInt(child + OB_GC_REFS, Raw.getInt(child + OB_GC_REFS) - 1);
                }
            });
        }
    }

    /** Clears UNREACHABLE from everything reachable from a root; returns what keeps it. */
    private static LongArrayList markAndSweep(LongArrayList candidates) {
        LongArrayList stack = new LongArrayList();
        for (int i = 0; i < candidates.size(); i++) {
            long obj = candidates.get(i);
            if (Raw.getInt(obj + OB_GC_REFS) > 0) {
                reach(obj, stack);
            }
        }
        while (!stack.isEmpty()) {
            long obj = stack.removeAtIndex(stack.size() - 1);
            Kinds.traverse(obj, child -> {
                if ((ObjectLayout.gcBits(child) & GC_UNREACHABLE) != 0) {
                    reach(child, stack);
                }
            });
        }
        LongArrayList garbage = new LongArrayList();
        for (int i = 0; i < candidates.size(); i++) {
            long obj = candidates.get(i);
            if ((ObjectLayout.gcBits(obj) & GC_UNREACHABLE) != 0) {
                garbage.add(obj);
            }
            ObjectLayout.setGcBits(obj, GC_TRACKED);
            Raw.putInt(obj + OB_GC_REFS, 0);
        }
        return garbage;
    }

    private static void reach(long obj, LongArrayList stack) {
        if ((ObjectLayout.gcBits(obj) & GC_UNREACHABLE) != 0) {
            ObjectLayout.setGcBits(obj, GC_TRACKED | GC_COLLECTING);
            stack.add(obj);
        }
    }

    private static void freeGarbage(ThreadState ts, LongArrayList garbage) {
        for (int i = 0; i < garbage.size(); i++) {
            BiasedRc.explicitMerge(garbage.get(i), 1);
        }
        for (int i = 0; i < garbage.size(); i++) {
            Kinds.clear(ts, garbage.get(i));
        }
        for (int i = 0; i < garbage.size(); i++) {
            BiasedRc.decref(ts, garbage.get(i));
        }
    }

    private static void freeDeadHeapTypes(ThreadState ts) {
        LongArrayList types = ts.interp.typeIds.liveTypes();
        for (int i = 0; i < types.size(); i++) {
            long t = types.get(i);
            if (Raw.getLongVolatile(t + ObjectLayout.OB_REF_SHARED) >> ObjectLayout.SHARED_SHIFT == 0) {
                ts.dealloc(t);
            }
        }
    }
}
