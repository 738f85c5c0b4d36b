package dev.cairn.tools.heapdump;

/**
 * The heap-dump format, reader side: the constants of {@code docs/heap-dump-format.md}, the byte-exact spec. The
 * allocator's writer has its own copy; the two meet only through the spec and the round-trip tests.
 */
public final class DumpFormat {

    private DumpFormat() {
    }

    static final byte[] MAGIC = {'C', 'A', 'I', 'R', 'N', 'D', 'M', 'P'};
    public static final int MAJOR = 1;
    static final int HEADER_SIZE = 96;
    static final int HEADER_CRC_OFFSET = 92;

    public static final int FLAG_BEST_EFFORT = 1;
    public static final int FLAG_CONTENTS = 2;
    public static final int FLAG_CHECKED = 4;
    public static final int FLAG_SAMPLING = 8;

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
    /** The object runtime's section, the first extension kind (0x100-0xFFFF: sections of the layers above). */
    public static final int OBJECTS = 0x100;

    static final int SEGMENT_FIXED = 72;
    static final int PAGE_FIXED = 64;
    /** A page record's fixed part with its owner (since 1.2). */
    static final int PAGE_OWNER_FIXED = 72;
    static final int HEAP_FIXED = 40;
    static final int SAMPLE_FIXED = 24;
    static final int OBJECTS_HEAD = 16;
    static final int OBJECT_TYPE_FIXED = 32;
    static final int OBJECT_FIXED = 48;

    /** Segment kinds, by their number in a segment record. */
    public static final String[] KINDS = {"small", "medium", "large", "huge"};
    public static final int KIND_HUGE = 3;

    /** Page flags. */
    public static final int PAGE_IN_FULL = 1;
    public static final int PAGE_HUGE = 2;
    public static final int PAGE_PURGE_PENDING = 4;
    public static final int PAGE_RETAINED = 0x100;

    /** Page owner byte (1.2; older dumps read as {@link #OWNER_SEGMENT}). */
    public static final int OWNER_SEGMENT = 0;
    public static final int OWNER_LENT = 1;
    public static final int OWNER_POOLED = 2;

    /** Page queue byte. */
    public static final int QUEUE_NONE = 0;
    public static final int QUEUE_BIN = 1;
    public static final int QUEUE_FULL = 2;

    /** Page list-error bits. */
    public static final int LIST_ERROR_FREE = 1;
    public static final int LIST_ERROR_LOCAL = 2;
    public static final int LIST_ERROR_XTHREAD = 4;

    public static final int HEAP_CLOSED = 1;
    /** Bits 8-15 of a heap record's flags: its heap tag (since 1.1). */
    public static final int HEAP_TAG_SHIFT = 8;

    /** Object and type flags (the low byte of the object header's flags). */
    public static final int OBJECT_IMMORTAL = 1;
    public static final int OBJECT_HEAP_TYPE = 2;
    /** Object GC bits. */
    public static final int OBJECT_GC_TRACKED = 1;
    /** The state in the low two bits of an object's shared word. */
    public static final int SHARED_QUEUED = 2;
    public static final int SHARED_MERGED = 3;
    /** The local count of an immortal object. */
    public static final int IMMORTAL_LOCAL = -1;
    /** Kinds of object a type describes, by number (0 unused). */
    public static final String[] OBJECT_KINDS = {"?", "type", "NoneType", "bool", "int", "float", "str", "bytes",
        "tuple", "list", "dict", "instance"};

    /** Names of the stats section's values, in file order (a newer minor may append more). */
    public static final String[] STAT_NAMES = {"reservedBytes", "peakReservedBytes", "committedBytes",
        "peakCommittedBytes", "purgedBytes", "allocatedBytes", "blocksInUse", "pages", "remoteFrees",
        "slowPathCalls", "liveSegments", "cachedSegments", "heaps"};

    /**
     * The block size of size class {@code bin}, as the spec defines it: 16-byte steps to 128 bytes (bins 0-7), then
     * four classes per power of two {@code p}: {@code 5p/4, 6p/4, 7p/4, 2p}.
     */
    public static long binBlockSize(int bin) {
        if (bin < 8) {
            return (long) (bin + 1) << 4;
        }
        int step = bin - 8;
        long power = 128L << (step >>> 2);
        return power + ((step & 3) + 1) * (power >>> 2);
    }
}
