/**
 * Reading Cairn heap dumps ({@code docs/heap-dump-format.md}): {@link dev.cairn.tools.heapdump.HeapDump#open} maps
 * a dump and parses it into records. Blanket rules: addresses are {@code long}s as the allocator wrote them;
 * counts and sizes are bytes or blocks as named; a file that is not a readable dump is a
 * {@link dev.cairn.tools.heapdump.DumpFormatException} naming the offset, never another exception, a hang or an
 * out-of-memory, whatever its bytes.
 */
package dev.cairn.tools.heapdump;
