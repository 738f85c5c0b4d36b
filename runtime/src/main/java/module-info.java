/**
 * A small object runtime on the allocator, modelled on CPython's free-threaded build: interpreters with their own or
 * a shared allocator, thread states, objects as off-heap blocks with biased reference counts, lock-free reads of
 * lists and dicts through delayed frees, stop-the-world and a cycle collector that walks the allocator's blocks.
 * See {@code docs/design/runtime.md}.
 */
module dev.cairn.runtime {
    requires transitive dev.cairn.alloc;
    requires transitive dev.cairn.reclaim;
    requires org.eclipse.collections.api;
    requires org.eclipse.collections.impl;

    exports dev.cairn.runtime;
}
