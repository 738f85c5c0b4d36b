/**
 * Memory from the operating system: aligned segments, commit, decommit, purge, huge pages, and {@code Raw}, the one
 * class in Cairn that reads and writes absolute addresses.
 */
@SuppressWarnings("module") // the qualified export names modules that are built after this one
module dev.cairn.segments {
    exports dev.cairn.segments;
    // Raw is Cairn-internal: the allocator and the runtime get it by qualified export.
    exports dev.cairn.segments.raw to dev.cairn.alloc, dev.cairn.runtime;
}
