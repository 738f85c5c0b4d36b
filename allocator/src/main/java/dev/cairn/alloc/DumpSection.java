package dev.cairn.alloc;

import java.io.IOException;

/**
 * A section that a layer above the allocator adds to a heap dump ({@link DumpOptions#withSection}) without the
 * allocator knowing what it holds: the object runtime describes its objects this way. The allocator frames the
 * body like its own sections (kind, CRC-32C, length; {@code docs/heap-dump-format.md}, "Sections") and writes it
 * after its own structure sections and before the block contents; a reader that does not know the kind skips it.
 *
 * <p>Kinds are in {@link #FIRST_EXTENSION_KIND}..{@link #LAST_EXTENSION_KIND}, a range the allocator never uses
 * for its own sections; the format page assigns them (0x100 is the runtime's OBJECTS section).
 *
 * @implSpec {@link #kind()} returns the same value on every call. {@link #write} runs on the thread that called
 * {@code dumpHeap}, once per dump, while the dump holds the allocator's segments pinned: it must not call the
 * dumped allocator (a free that gives a segment back would wait for the dump to end), so a layer that needs to
 * walk the heap does it before {@code dumpHeap} and only writes here.
 */
public interface DumpSection {

    /** The lowest kind a section of a layer above the allocator may have. */
    int FIRST_EXTENSION_KIND = 0x100;
    /** The highest; kinds above it are reserved. */
    int LAST_EXTENSION_KIND = 0xFFFF;

    /** The section's kind number, in the extension range. */
    int kind();

    /**
     * Writes the section's body (without the frame) to {@code out}, which is valid only during this call. An
     * exception ends the dump with it: the unfinished file is deleted, and a dump already at the path stays.
     */
    void write(DumpSink out) throws IOException;
}
