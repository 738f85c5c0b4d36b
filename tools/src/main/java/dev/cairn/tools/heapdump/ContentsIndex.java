package dev.cairn.tools.heapdump;

import java.util.Arrays;

/**
 * Where each live block's bytes are in the contents section: block addresses (ascending, as the writer emits them)
 * with the file offset and length of their bytes. Built by one bounded pass; lookups are binary searches.
 */
final class ContentsIndex {

    private final long[] addresses;
    private final long[] offsets;
    private final long[] lengths;
    private final int count;

    private ContentsIndex(long[] addresses, long[] offsets, long[] lengths, int count) {
        this.addresses = addresses;
        this.offsets = offsets;
        this.lengths = lengths;
        this.count = count;
    }

    static ContentsIndex parse(DumpCursor in) throws DumpFormatException {
        int capacity = 16;
        long[] addresses = new long[capacity];
        long[] offsets = new long[capacity];
        long[] lengths = new long[capacity];
        int count = 0;
        while (in.remaining() > 0) {
            long at = in.position();
            long address = in.u64();
            long length = in.u64();
            if (length < 0 || length > in.remaining()) {
                throw in.error(at, "block 0x" + Long.toHexString(address) + " claims " + Long.toUnsignedString(length)
                        + " bytes of contents, " + in.remaining() + " are left");
            }
            if (count > 0 && Long.compareUnsigned(address, addresses[count - 1]) <= 0) {
                throw in.error(at, "contents are not in address order at 0x" + Long.toHexString(address));
            }
            if (count == capacity) { // grows with what was read, so never past the section's size / 16
                capacity *= 2;
                addresses = Arrays.copyOf(addresses, capacity);
                offsets = Arrays.copyOf(offsets, capacity);
                lengths = Arrays.copyOf(lengths, capacity);
            }
            addresses[count] = address;
            offsets[count] = in.position();
            lengths[count] = length;
            count++;
            in.skip(length);
        }
        return new ContentsIndex(addresses, offsets, lengths, count);
    }

    int count() {
        return count;
    }

    /** {@code {file offset, length}} of the block at {@code address}, or null when the dump has no bytes for it. */
    long[] find(long address) {
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int cmp = Long.compareUnsigned(addresses[mid], address);
            if (cmp == 0) {
                return new long[] {offsets[mid], lengths[mid]};
            }
            if (cmp < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return null;
    }
}
