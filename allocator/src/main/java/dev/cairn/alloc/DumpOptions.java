package dev.cairn.alloc;

/**
 * What a heap dump ({@link Allocator#dumpHeap(java.nio.file.Path, DumpOptions)}) carries besides the heap's
 * structure. The format is specified in {@code docs/heap-dump-format.md}.
 *
 * @param contents also write the bytes of every live block (off by default: a dump without contents stays small
 *                 and fast, and it holds no user data)
 */
public record DumpOptions(boolean contents) {

    /** Structure, statistics and allocation sites; no block contents. */
    public static final DumpOptions DEFAULT = new DumpOptions(false);

    /** The default, plus the bytes of every live block. */
    public static DumpOptions withContents() {
        return new DumpOptions(true);
    }
}
