package dev.cairn.alloc.internal;

/**
 * The heap-dump file format, writer side: the constants of {@code docs/heap-dump-format.md}, which is the byte-exact
 * spec (the reader in {@code tools} has its own copy and never sees this class).
 *
 * <p>Shape: a {@value #DUMP_HEADER_SIZE}-byte header, then sections framed as {@code u32 kind, u32 crc32c(kind, body),
 * u64 length, body}, ending with an {@link #END} section of length 0. All numbers are little-endian. A reader skips
 * kinds it does not know, so new kinds need no version change: the allocator's own are below 0x100, those of
 * the layers above ({@link dev.cairn.alloc.DumpSection}, e.g. the runtime's objects) in 0x100-0xFFFF; fields
 * appended to the fixed part of a record bump the minor version and are skipped by older readers through the
 * section's {@code fixedSize}; anything else bumps the major version.
 */
final class DumpFormat {

    private DumpFormat() {
    }

    static final byte[] MAGIC = {'C', 'A', 'I', 'R', 'N', 'D', 'M', 'P'};
    static final int MAJOR = 1;
    static final int MINOR = 2;
    static final int DUMP_HEADER_SIZE = 96;
    /** Header bytes covered by the header checksum, which follows them. */
    static final int HEADER_CRC_OFFSET = 92;
    static final int VERSION_FIELD = 64;
    static final int VERSION_FIELD_SIZE = 28;
    /** What the writer calls itself in the header's Cairn-version field. */
    static final String CAIRN_VERSION = "cairn 0.1.0-SNAPSHOT";

    // ---- header flags ----
    /** Other threads may have allocated or freed while the dump was written: counts may disagree by those. */
    static final int FLAG_BEST_EFFORT = 1;
    static final int FLAG_CONTENTS = 2;
    static final int FLAG_CHECKED = 4;
    static final int FLAG_SAMPLING = 8;

    // ---- section kinds ----
    static final int END = 0;
    static final int STATS = 1;
    static final int SEGMENTS = 2;
    static final int PAGES = 3;
    static final int HEAPS = 4;
    static final int ABANDONED = 5;
    static final int DELAYED_FREES = 6;
    static final int SITES = 7;
    static final int SAMPLES = 8;
    static final int CONTENTS = 9;

    // ---- fixed record sizes (version 1.0; pages 64 bytes until 1.2 appended the owner) ----
    static final int SEGMENT_FIXED = 72;
    static final int PAGE_FIXED = 72;
    static final int HEAP_FIXED = 40;
    static final int SAMPLE_FIXED = 24;

    // ---- page record: listErrors bits (a list left its page or repeated a block when the dump walked it) ----
    static final int LIST_ERROR_FREE = 1;
    static final int LIST_ERROR_LOCAL = 2;
    static final int LIST_ERROR_XTHREAD = 4;

    // ---- page record: queue byte ----
    static final int QUEUE_NONE = 0;
    static final int QUEUE_BIN = 1;
    static final int QUEUE_FULL = 2;

    // ---- page record: owner byte (1.2) ----
    /** The page belongs to its segment's heap, or to nobody with it (an abandoned segment, an orphan huge block). */
    static final int PAGE_OWNER_SEGMENT = 0;
    /** Another heap adopted the page from the page pool ({@code AllocatorConfig.pagePool}). */
    static final int PAGE_OWNER_LENT = 1;
    /** The page is in the page pool: no heap owns it. */
    static final int PAGE_OWNER_POOLED = 2;

    /** Heap record flags. */
    static final int HEAP_CLOSED = 1;
    /** A heap record's flags carry its heap tag in bits 8-15. */
    static final int HEAP_TAG_SHIFT = 8;
}
