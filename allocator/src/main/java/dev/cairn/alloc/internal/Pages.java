package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.segments.raw.Raw;

/**
 * Page mechanics on off-heap descriptors: formatting a page for a size class, carving more blocks into its free
 * list, collecting frees, and the live/remote bitmaps of checked mode.
 *
 * <p>The three lists (mimalloc's design): {@code FREE} is where allocation pops; owner frees push on
 * {@code LOCAL_FREE}, so {@code FREE} runs dry after a bounded number of allocations and the slow path gets a
 * regular turn; other threads push on {@code XTHREAD_FREE} with one CAS. The owner takes the whole remote list
 * with one atomic swap ({@link #collect}). Only the owner touches {@code FREE}, {@code LOCAL_FREE}, {@code USED},
 * {@code CAPACITY} and the live bitmap, with plain accesses.
 *
 * <p>Checked mode keeps two bitmaps per page, interleaved word by word. {@code live}: written by the owner only
 * (set on allocation, cleared on local free and when a remote free is collected). {@code remote}: a remote free
 * sets its bit with an atomic OR before pushing the block (a second remote free of the same block sees the bit and
 * is refused); the owner clears it with an atomic AND when it collects the block. A double free raced from two
 * threads at the same instant (owner and remote together) is outside what the bitmaps can order without an atomic
 * on the owner's free path; it is detected when it is not simultaneous, and free-list pointers are range-checked on
 * allocation so even then Cairn never follows a pointer out of its page.
 */
final class Pages {

    /** Blocks carved per extension: about 4 KiB worth, at least 4 (bounds the memory first touched). */
    private static final long EXTEND_BYTES = 4096;

    private Pages() {
    }

    /** Formats page {@code index} of {@code segment} for blocks of {@code bin}; returns its descriptor. */
    static long format(long segment, int index, int bin, long blockSize, int pageShift, boolean checked) {
        long page = descriptor(segment, index);
        long areaStart = segment + ((long) index << pageShift);
        long areaEnd = areaStart + (1L << pageShift);
        long metaEnd = segment + metadataSize(Raw.getInt(segment + SEG_PAGE_COUNT));
        long start = align(Math.max(areaStart, metaEnd), startAlignment(blockSize));
        long room = areaEnd - start;
        long reserved = room / blockSize;
        while (checked && reserved * blockSize + bitmapBytes(reserved) > room) {
            reserved--;
        }
        Raw.putLong(page + FREE, 0);
        Raw.putLong(page + LOCAL_FREE, 0);
        Raw.putLongRelease(page + XTHREAD_FREE, 0);
        Raw.putLong(page + PAGE_START, start);
        Raw.putLong(page + RECIPROCAL, reciprocal(blockSize));
        Raw.putLong(page + NEXT, 0);
        Raw.putLong(page + PREV, 0);
        Raw.putLong(page + PURGE_DEADLINE, 0);
        Raw.putInt(page + BLOCK_SIZE, (int) blockSize);
        Raw.putInt(page + USED, 0);
        Raw.putInt(page + CAPACITY, 0);
        Raw.putInt(page + RESERVED, (int) reserved);
        Raw.putInt(page + BIN, bin);
        Raw.putShort(page + FLAGS, (short) 0);
        Raw.putShort(page + RETAIN, (short) 0);
        if (checked) {
            long maps = start + reserved * blockSize;
            Raw.fill(maps, bitmapBytes(reserved), (byte) 0);
            Raw.putLong(page + LIVE_MAP, maps);
        } else {
            Raw.putLong(page + LIVE_MAP, 0);
        }
        // Published last: a checked free reads BLOCKS_BYTES first and finds 0 until the page is complete.
        Raw.putLongRelease(page + BLOCKS_BYTES, reserved * blockSize);
        return page;
    }

    /** Marks a page unused: every later checked free into it is refused. */
    static void unformat(long page) {
        Raw.putLongRelease(page + BLOCKS_BYTES, 0);
        Raw.putInt(page + BLOCK_SIZE, 0);
        Raw.putInt(page + BIN, -1);
        Raw.putInt(page + USED, 0);
        Raw.putShort(page + FLAGS, (short) 0);
    }

    /**
     * Carves new blocks into the (empty) free list: as many as the page has carved so far, at least ~4 KiB and 4
     * blocks, so a page being filled takes a slow path per doubling (5 for a 64 KiB page, not 16) while a page
     * that is barely used touches no more memory than twice what it used. False when the page is fully carved.
     */
    static boolean extend(long page) {
        int capacity = Raw.getInt(page + CAPACITY);
        int reserved = Raw.getInt(page + RESERVED);
        if (capacity >= reserved) {
            return false;
        }
        long blockSize = Raw.getInt(page + BLOCK_SIZE);
        int count = (int) Math.min(reserved - capacity, Math.max(Math.max(4, capacity), EXTEND_BYTES / blockSize));
        long first = Raw.getLong(page + PAGE_START) + capacity * blockSize;
        long block = first;
        for (int i = 1; i < count; i++) {
            long next = block + blockSize;
            Raw.putLong(block, next);
            block = next;
        }
        Raw.putLong(block, Raw.getLong(page + FREE));
        Raw.putLong(page + FREE, first);
        Raw.putInt(page + CAPACITY, capacity + count);
        return true;
    }

    /**
     * Takes the remote list with one swap (partner: the CAS in {@code AllocatorImpl.freeRemote}) and moves it, with
     * the local list, onto the free list. Returns the number of remote blocks collected. Owned pages only (their
     * list is never tagged).
     */
    static int collect(long page) {
        int collected = 0;
        if (Raw.getLongVolatile(page + XTHREAD_FREE) != 0) {
            collected = splice(page, Raw.getAndSetLong(page + XTHREAD_FREE, 0));
        }
        moveLocalToFree(page);
        return collected;
    }

    /**
     * Collects a page of a segment held exclusively while it changes hands (abandonment, sweep, adoption): the swap
     * leaves {@link SegmentLayout#ABANDONED_TAG} behind when {@code tagged}, and clears it otherwise, in the same
     * atomic step that takes the list, so each remote free is either taken here or sees the new tag.
     */
    static int collectExclusive(long page, boolean tagged) {
        long head = Raw.getAndSetLong(page + XTHREAD_FREE, tagged ? ABANDONED_TAG : 0) & ~ABANDONED_TAG;
        int collected = head == 0 ? 0 : splice(page, head);
        moveLocalToFree(page);
        return collected;
    }

    /** Puts a taken remote list in front of the local list: clears its bits, subtracts it from {@code USED}. */
    private static int splice(long page, long head) {
        int collected = 0;
        long liveMap = Raw.getLong(page + LIVE_MAP);
        RemoteBitClears clears = liveMap == 0 ? null : new RemoteBitClears();
        long tail = head;
        long block = head;
        while (block != 0) {
            collected++;
            if (clears != null) {
                clears.clear(page, liveMap, block);
            }
            tail = block;
            block = Raw.getLong(block);
        }
        if (clears != null) {
            clears.flush(); // before any of the blocks can be allocated again
        }
        Raw.putLong(tail, Raw.getLong(page + LOCAL_FREE));
        Raw.putLong(page + LOCAL_FREE, head);
        Raw.putInt(page + USED, Raw.getInt(page + USED) - collected);
        return collected;
    }

    private static void moveLocalToFree(long page) {
        long local = Raw.getLong(page + LOCAL_FREE);
        if (local != 0 && Raw.getLong(page + FREE) == 0) {
            Raw.putLong(page + FREE, local);
            Raw.putLong(page + LOCAL_FREE, 0);
        }
    }

    /** Whether the page can hand out a block without a new page: a list is not empty or it can be extended. */
    static boolean hasRoom(long page) {
        return Raw.getLong(page + FREE) != 0 || Raw.getLong(page + LOCAL_FREE) != 0
                || Raw.getInt(page + CAPACITY) < Raw.getInt(page + RESERVED);
    }

    /** Appends the local list to the free list even when the free list is not empty (O(free list)). */
    static void collectAll(long page) {
        collect(page);
        long local = Raw.getLong(page + LOCAL_FREE);
        if (local == 0) {
            return;
        }
        long free = Raw.getLong(page + FREE);
        long tail = free;
        while (Raw.getLong(tail) != 0) {
            tail = Raw.getLong(tail);
        }
        Raw.putLong(tail, local);
        Raw.putLong(page + LOCAL_FREE, 0);
    }

    static boolean hasFree(long page) {
        return Raw.getLong(page + FREE) != 0;
    }

    // ---- checked-mode bitmaps ----

    static long blockIndex(long page, long block) {
        return ((block - Raw.getLong(page + PAGE_START)) * Raw.getLong(page + RECIPROCAL)) >>> RECIPROCAL_SHIFT;
    }

    /** Marks a block handed out; {@code start} is the page start (owner only, plain). */
    static void setLive(long bitmaps, long start, long reciprocal, long block) {
        long index = ((block - start) * reciprocal) >>> RECIPROCAL_SHIFT;
        long word = liveWord(bitmaps, index);
        Raw.putLong(word, Raw.getLong(word) | (1L << index));
    }
}
