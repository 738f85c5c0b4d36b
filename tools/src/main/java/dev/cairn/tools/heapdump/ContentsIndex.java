package dev.cairn.tools.heapdump;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Where each live block's bytes are in the contents section. Built by one bounded pass that proves every record
 * (inside the section, ascending addresses, a non-empty block); it keeps only every {@value #STRIDE}th record's
 * address and file offset, and a lookup binary-searches those, then walks at most {@value #STRIDE} records of the
 * mapping. Keeping three longs for every block made a dump of a heap of many small blocks need more Java heap than
 * its file's size.
 */
final class ContentsIndex {

    /** One record in this many is indexed: the index costs about a quarter of a byte per block. */
    static final int STRIDE = 64;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment file;
    /** Address and file offset (of the record's head) of records 0, STRIDE, 2 * STRIDE, ... */
    private final long[] addresses;
    private final long[] offsets;
    private final int indexed;
    private final long count;
    /** File offset just past the section. */
    private final long end;

    private ContentsIndex(MemorySegment file, long[] addresses, long[] offsets, int indexed, long count, long end) {
        this.file = file;
        this.addresses = addresses;
        this.offsets = offsets;
        this.indexed = indexed;
        this.count = count;
        this.end = end;
    }

    static ContentsIndex parse(DumpCursor in, MemorySegment file) throws DumpFormatException {
        int capacity = 16;
        long[] addresses = new long[capacity];
        long[] offsets = new long[capacity];
        int indexed = 0;
        long count = 0;
        long previous = 0;
        while (in.remaining() > 0) {
            long at = in.position();
            long address = in.u64();
            long length = in.u64();
            if (length <= 0 || length > in.remaining()) {
                throw in.error(at, "block 0x" + Long.toHexString(address) + " claims " + Long.toUnsignedString(length)
                        + " bytes of contents, " + in.remaining() + " are left"
                        + (length == 0 ? " (no block is empty)" : ""));
            }
            if (count > 0 && Long.compareUnsigned(address, previous) <= 0) {
                throw in.error(at, "contents are not in address order at 0x" + Long.toHexString(address));
            }
            if (count % STRIDE == 0) {
                if (indexed == capacity) { // grows with what was read: never past the section's size / (16 * STRIDE)
                    capacity *= 2;
                    addresses = Arrays.copyOf(addresses, capacity);
                    offsets = Arrays.copyOf(offsets, capacity);
                }
                addresses[indexed] = address;
                offsets[indexed] = at;
                indexed++;
            }
            previous = address;
            count++;
            in.skip(length);
        }
        return new ContentsIndex(file, addresses, offsets, indexed, count, in.position());
    }

    long count() {
        return count;
    }

    /** {@code {file offset, length}} of the block at {@code address}, or null when the dump has no bytes for it. */
    long[] find(long address) {
        int lo = 0;
        int hi = indexed - 1;
        int from = -1; // the last indexed record at or below the address
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addresses[mid], address) <= 0) {
                from = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (from < 0) {
            return null;
        }
        long at = offsets[from];
        for (int step = 0; step < STRIDE && at < end; step++) { // every record was proven by parse
            long found = file.get(U64, at);
            long length = file.get(U64, at + 8);
            int order = Long.compareUnsigned(found, address);
            if (order == 0) {
                return new long[] {at + 16, length};
            }
            if (order > 0) {
                return null;
            }
            at += 16 + length;
        }
        return null;
    }
}
