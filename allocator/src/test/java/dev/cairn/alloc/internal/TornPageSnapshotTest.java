package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.segments.raw.Raw;
import org.junit.jupiter.api.Test;

/**
 * A dump reads another thread's page descriptor without stopping it, so a page retired and formatted again for
 * another size class between two of its reads yields fields of two formats: a block size from one and a block count
 * from the other can describe blocks far past the page (a whole segment and beyond). The snapshot's list walks then
 * followed links anywhere in that range, past the page and the segment, into memory that may not be mapped; the
 * format spec promises a racing owner never makes the writer read outside a page. Such a snapshot is now dropped,
 * as a page retired during the dump is. The torn read is staged here by writing the other format's block size into a
 * quiet page's descriptor. Found reading PageSnapshot against the spec's consistency claims.
 */
class TornPageSnapshotTest {

    @Test
    void aPageWhoseFieldsDescribeBlocksPastItIsLeftOut() {
        try (Allocator allocator = Allocator.create()) {
            long block = allocator.malloc(16);
            long segment = Inspect.segmentOf(allocator, block);
            int shift = Raw.getInt(segment + SEG_PAGE_SHIFT);
            int index = (int) ((block - segment) >>> shift);
            long page = descriptor(segment, index);
            assertNotNull(PageSnapshot.take(segment, index, page, true), "the quiet page");
            int blockSize = Raw.getInt(page + BLOCK_SIZE);
            try {
                Raw.putInt(page + BLOCK_SIZE, 8192); // the next format's block size, with this format's count
                assertNull(PageSnapshot.take(segment, index, page, true),
                        Raw.getInt(page + RESERVED) + " blocks of 8192 bytes do not fit in a 64 KiB page");
            } finally {
                Raw.putInt(page + BLOCK_SIZE, blockSize);
            }
            long start = Raw.getLong(page + PAGE_START);
            try {
                Raw.putLong(page + PAGE_START, segment + 16); // a start inside the metadata
                assertNull(PageSnapshot.take(segment, index, page, true));
            } finally {
                Raw.putLong(page + PAGE_START, start);
            }
            assertNotNull(PageSnapshot.take(segment, index, page, true));
            allocator.validate();
            long huge = allocator.malloc(5 << 20);
            long hugeSegment = Inspect.segmentOf(allocator, huge);
            assertNotNull(PageSnapshot.take(hugeSegment, 0, descriptor(hugeSegment, 0), true), "a huge page");
        }
    }
}
