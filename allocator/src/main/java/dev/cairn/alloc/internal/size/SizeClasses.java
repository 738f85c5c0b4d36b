package dev.cairn.alloc.internal.size;

/**
 * Size classes ("bins"): pure arithmetic from a requested size to the block size that serves it.
 *
 * <p>Every block is a multiple of 16 bytes, so every block start is 16-byte aligned. Up to 128 bytes the classes
 * step by 16; above, each power of two {@code p} is split into four classes {@code 5p/4, 6p/4, 7p/4, 2p}, as
 * mimalloc does: the average internal waste is about 12.5%, the worst just above a power of two (129 bytes in a
 * 160-byte block) about 20%.
 *
 * <pre>
 *   bin   0-7 : 16 32 48 64 80 96 112 128
 *   bin  8-11 : 160 192 224 256          bin 28-31 : 5120 6144 7168 8192     (small max)
 *   bin 12-15 : 320 384 448 512          bin 32-35 : 10 KiB 12 KiB 14 KiB 16 KiB
 *   bin 16-19 : 640 768 896 1024         bin 40-43 : 40 KiB .. 64 KiB        (medium max)
 *   bin 20-23 : 1280 1536 1792 2048      bin 52-55 : 320 KiB .. 512 KiB      (large max)
 *   bin 24-27 : 2560 3072 3584 4096
 * </pre>
 * Above {@link #LARGE_MAX} a block is "huge" and gets a segment of its own.
 */
public final class SizeClasses {

    public static final int ALIGNMENT = 16;
    /** Largest block of a small (64 KiB) page: one eighth of the page, so a page holds at least 8 blocks. */
    public static final long SMALL_MAX = 8L << 10;
    /** Largest block of a medium (512 KiB) page. */
    public static final long MEDIUM_MAX = 64L << 10;
    /** Largest block of a large (4 MiB) page; above it, blocks are huge. */
    public static final long LARGE_MAX = 512L << 10;
    /** Sizes up to here are served through the heap's direct table (one slot per 16 bytes). */
    public static final long DIRECT_MAX = 1024;
    public static final int DIRECT_SLOTS = (int) (DIRECT_MAX / ALIGNMENT) + 1;
    public static final int BIN_COUNT = binOf(LARGE_MAX) + 1;

    private static final int LINEAR_BINS = 8;
    private static final long LINEAR_MAX = 128;

    private SizeClasses() {
    }

    /** The bin serving {@code size} bytes, for {@code 0 <= size <= LARGE_MAX} (0 is served like 1). */
    public static int binOf(long size) {
        if (size <= LINEAR_MAX) {
            return size <= 0 ? 0 : (int) ((size - 1) >>> 4);
        }
        long s = size - 1;
        int highBit = 63 - Long.numberOfLeadingZeros(s); // >= 7
        return LINEAR_BINS + ((highBit - 7) << 2) + (int) ((s >>> (highBit - 2)) & 3);
    }

    /** The block size of {@code bin}. */
    public static long blockSize(int bin) {
        if (bin < LINEAR_BINS) {
            return (long) (bin + 1) << 4;
        }
        int step = bin - LINEAR_BINS;
        long power = LINEAR_MAX << (step >>> 2);
        return power + ((step & 3) + 1) * (power >>> 2);
    }

    /** The direct-table slot of {@code size}, for {@code 0 <= size <= DIRECT_MAX}. */
    public static int directSlot(long size) {
        return (int) ((size + ALIGNMENT - 1) >>> 4);
    }

    /** The usable size a request of {@code size} bytes really gets, for sizes up to {@link #LARGE_MAX}. */
    public static long goodSize(long size) {
        return blockSize(binOf(size));
    }
}
