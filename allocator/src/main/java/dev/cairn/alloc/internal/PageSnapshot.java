package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.DumpFormat.*;
import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.alloc.internal.size.SizeClasses;
import dev.cairn.segments.raw.Raw;

/**
 * One page as the heap dump writes it: its descriptor fields read once, and its free lists walked into a live-block
 * bitmap (a block is live when it is carved, {@code index < capacity}, and on none of the three lists). Walks follow
 * only links that are carved blocks of the page and stop at the first repeat, so a corrupt or concurrently changing
 * page yields {@link #listErrors} instead of a loop or a read outside the page. In checked mode the page's own
 * live/remote bitmaps are compared with what the lists say ({@link #mismatches}).
 *
 * <p>A page that its owner retires while the dump reads it is dropped ({@link #take} returns null): a snapshot is
 * only kept when the page was still formatted after its fields were read and they describe a possible page, so the
 * dump never carries a record the format forbids.
 */
final class PageSnapshot {

    final long start;
    final long blockSize;
    final int bin;
    final int flags;
    final int reserved;
    final int capacity;
    final int used;
    final long[] live;
    /** The page's own heap ({@code PAGE_HEAP}) and thread ({@code PAGE_OWNER}), read with the other fields. */
    final int ownerHeap;
    final long ownerTid;
    int free;
    int local;
    int xthread;
    int listErrors;
    int mismatches;
    /** Checked mode: blocks whose delayed free is pending (live and remote bits set, on no list); else null. */
    long[] pendingDelayed;

    private PageSnapshot(long page) {
        this.start = Raw.getLong(page + PAGE_START);
        this.blockSize = AllocatorImpl.blockSizeOf(page);
        this.bin = Raw.getInt(page + BIN);
        // The dump's flags (docs/heap-dump-format.md): FLAG_PURGE_POSTPONED is the heap's bookkeeping, not written.
        this.flags = (Raw.getShort(page + FLAGS) & (FLAG_IN_FULL | FLAG_HUGE | FLAG_PURGE_PENDING))
                | (Raw.getShort(page + RETAIN) != 0 ? 0x100 : 0);
        this.reserved = Raw.getInt(page + RESERVED);
        this.capacity = Math.max(0, Math.min(Raw.getInt(page + CAPACITY), reserved));
        this.used = Raw.getInt(page + USED);
        this.ownerHeap = Raw.getInt(page + PAGE_HEAP);
        this.ownerTid = Raw.getLong(page + PAGE_OWNER);
        this.live = new long[(capacity + 63) >>> 6];
        for (int word = 0; word < live.length; word++) {
            live[word] = carvedMask(word);
        }
    }

    /**
     * Page {@code index} of {@code segment} now, or null when it is not (or no longer) a formatted page, or its fields
     * were read across a retirement and a new format (a block size of one format, a count of the other): blocks that
     * do not fit in the page's area would send the list walks outside the page.
     */
    static PageSnapshot take(long segment, int index, long page, boolean checked) {
        PageSnapshot scan = new PageSnapshot(page);
        if (scan.blockSize <= 0 || scan.bin < -1 || scan.bin >= SizeClasses.BIN_COUNT
                || !scan.fitsIn(segment, index)
                || Raw.getLongAcquire(page + BLOCKS_BYTES) == 0) { // retired meanwhile: partner Pages.unformat
            return null;
        }
        scan.free = scan.walk(page, Raw.getLong(page + FREE), LIST_ERROR_FREE, null);
        scan.local = scan.walk(page, Raw.getLong(page + LOCAL_FREE), LIST_ERROR_LOCAL, null);
        long[] remote = new long[scan.live.length];
        scan.xthread = scan.walk(page, Raw.getLongVolatile(page + XTHREAD_FREE) & ~ABANDONED_TAG, LIST_ERROR_XTHREAD,
                remote);
        long bitmaps = Raw.getLong(page + LIVE_MAP);
        if (checked && bitmaps != 0) {
            scan.pendingDelayed = new long[scan.live.length];
            for (int word = 0; word < scan.live.length; word++) {
                long liveWord = Raw.getLong(bitmaps + ((long) word << 4));
                long remoteWord = Raw.getLong(bitmaps + ((long) word << 4) + 8);
                // A delayed free marks its block remote while it is still handed out and on no list.
                long pending = liveWord & remoteWord & ~remote[word] & scan.live[word] & scan.carvedMask(word);
                scan.pendingDelayed[word] = pending;
                // The allocator's live bit: handed out and not on a local list (remote frees keep it until collected).
                long expectLive = scan.live[word] | remote[word];
                scan.mismatches += Long.bitCount((liveWord ^ expectLive) & scan.carvedMask(word))
                        + Long.bitCount((remoteWord ^ (remote[word] | pending)) & scan.carvedMask(word));
            }
        }
        return scan;
    }

    /** Whether the blocks the fields describe lie in the page's area, past the segment's metadata. */
    private boolean fitsIn(long segment, int index) {
        long from;
        long to;
        if (Raw.getInt(segment + SEG_KIND) == Kind.HUGE.ordinal()) {
            from = segment + metadataSize(1);
            to = segment + Raw.getLong(segment + SEG_SIZE);
        } else {
            int shift = Raw.getInt(segment + SEG_PAGE_SHIFT);
            from = segment + Math.max((long) index << shift, metadataSize(Raw.getInt(segment + SEG_PAGE_COUNT)));
            to = segment + ((long) (index + 1) << shift);
        }
        return reserved > 0 && start >= from && start < to && reserved <= (to - start) / blockSize;
    }

    private long carvedMask(int word) {
        int bits = Math.min(64, capacity - word * 64);
        return bits == 64 ? -1L : (1L << bits) - 1;
    }

    /** Counts a list, clearing its blocks from {@link #live} (and setting them in {@code onList} when given). */
    private int walk(long page, long head, int errorBit, long[] onList) {
        int count = 0;
        for (long block = head; block != 0; block = Raw.getLong(block)) {
            long offset = block - start;
            if (blockSize <= 0 || Long.compareUnsigned(offset, capacity * blockSize) >= 0 || offset % blockSize != 0) {
                listErrors |= errorBit; // a link out of the carved blocks: never followed
                break;
            }
            int index = (int) (offset / blockSize);
            long bit = 1L << index;
            if ((live[index >>> 6] & bit) == 0) {
                listErrors |= errorBit; // already on this or another list: a cycle or a double free
                break;
            }
            live[index >>> 6] &= ~bit;
            if (onList != null) {
                onList[index >>> 6] |= bit;
            }
            count++;
        }
        return count;
    }
}
