/**
 * Cairn's tools: the heap-dump reader ({@code dev.cairn.tools.heapdump}) and {@code cairn-inspect}
 * ({@code dev.cairn.tools.inspect}). They read the dump file format ({@code docs/heap-dump-format.md}) and nothing
 * else of Cairn: a dump can be inspected on a machine without the allocator.
 */
module dev.cairn.tools {
    exports dev.cairn.tools.heapdump;
    exports dev.cairn.tools.inspect;
}
