package dev.cairn.tools.heapdump;

/**
 * One page of the dump that held a size class (or a huge block). Counts are the allocator's; {@link #liveBlocks()}
 * is the popcount of the page's live bitmap (blocks on none of the three free lists).
 *
 * @param segment ordinal of its segment
 * @param index page index in the segment
 * @param start address of the first block
 * @param bin size class, -1 for a huge block
 * @param flags {@link DumpFormat#PAGE_IN_FULL} and friends
 * @param queue {@link DumpFormat#QUEUE_BIN}, {@link DumpFormat#QUEUE_FULL} or none
 * @param listErrors lists that left the page or repeated a block when the dump walked them
 * @param mismatches blocks whose checked-mode live/remote bits disagree with the lists
 * @param bitmapOffset file offset of the live bitmap's first word
 * @param ownerHeap the heap that owns the page: its segment's, except for a page another heap adopted from the page
 *     pool ({@code AllocatorConfig.pagePool}); 0 for a pooled page and for one whose segment no heap owns (dumps
 *     before format 1.2 do not record page owners: the segment's heap)
 * @param owner {@link DumpFormat#OWNER_SEGMENT}, {@link DumpFormat#OWNER_LENT} (another heap adopted the page) or
 *     {@link DumpFormat#OWNER_POOLED} (in the page pool)
 */
public record PageInfo(int segment, int index, long start, long blockSize, int bin, int flags, int queue,
        int listErrors, int capacity, int reserved, int used, int free, int localFree, int xthreadFree,
        int mismatches, long liveBlocks, long bitmapOffset, int bitmapWords, int ownerHeap, int owner) {

    public long liveBytes() {
        return liveBlocks * blockSize;
    }

    public boolean huge() {
        return bin < 0;
    }

    public boolean flag(int flag) {
        return (flags & flag) != 0;
    }

    /** Address just past the last block the page can hold. */
    public long blocksEnd() {
        return start + reserved * blockSize;
    }
}
