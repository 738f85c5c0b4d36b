/**
 * Memory from the operating system: aligned segments, commit, decommit, purge, huge pages, and {@code Raw}, the one
 * class in Cairn that reads and writes absolute addresses.
 */
module dev.cairn.segments {
    exports dev.cairn.segments;
    // Raw is Cairn-internal: other Cairn modules get it by qualified export.
    exports dev.cairn.segments.raw to dev.cairn.alloc;
}
