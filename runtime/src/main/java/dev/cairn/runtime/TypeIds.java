package dev.cairn.runtime;

import org.eclipse.collections.impl.list.mutable.primitive.IntArrayList;
import org.eclipse.collections.impl.list.mutable.primitive.LongArrayList;

/**
 * An interpreter's pool of heap-type ids (CPython's {@code unique_ids}): the id is an index into every thread's
 * {@link TypeRefcounts} array. Freed ids are reused smallest-last (a stack), so arrays stay as small as the most
 * types alive at once. All methods synchronize on the pool; readers are the owner paths of creation and the GC.
 */
final class TypeIds {

    /** Type address per id, 0 for a free id; guarded by this. */
    private final LongArrayList types = new LongArrayList();
    private final IntArrayList free = new IntArrayList();

    synchronized int reserve(long type) {
        if (!free.isEmpty()) {
            int id = free.removeAtIndex(free.size() - 1);
            types.set(id, type);
            return id;
        }
        types.add(type);
        return types.size() - 1;
    }

    synchronized void release(int id) {
        types.set(id, 0);
        free.add(id);
    }

    synchronized long type(int id) {
        return id < types.size() ? types.get(id) : 0;
    }

    synchronized int size() {
        return types.size();
    }

    /** Live heap types (for the GC, which decides whether they died). */
    synchronized LongArrayList liveTypes() {
        LongArrayList out = new LongArrayList();
        for (int i = 0; i < types.size(); i++) {
            if (types.get(i) != 0) {
                out.add(types.get(i));
            }
        }
        return out;
    }
}
