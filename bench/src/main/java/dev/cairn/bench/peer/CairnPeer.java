package dev.cairn.bench.peer;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.Heap;

/**
 * Cairn, checked or unchecked. Each thread works through its own {@link Heap} from {@link Allocator#heap()}: the
 * documented way to call Cairn in a hot loop, and the same per-thread set-up every other peer gets.
 */
final class CairnPeer implements Peer {
    private final String name;
    private final Allocator allocator;

    CairnPeer(String name, boolean checked) {
        this.name = name;
        this.allocator = Allocator.create(AllocatorConfig.fromSystemProperties().toBuilder().checked(checked).build());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PeerThread forThread() {
        return new View(allocator.heap());
    }

    @Override
    public void close() {
        allocator.close();
    }

    private static final class View extends AddressPeerThread {
        private final Heap heap;

        View(Heap heap) {
            this.heap = heap;
        }

        @Override
        public long malloc(long size) {
            return heap.malloc(size); // throws OutOfMemoryError itself, never returns 0
        }

        @Override
        public void free(long handle) {
            heap.free(handle);
        }
    }
}
