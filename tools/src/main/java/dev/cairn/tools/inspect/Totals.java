package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.HeapInfo;
import dev.cairn.tools.heapdump.PageInfo;
import dev.cairn.tools.heapdump.SegmentInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One pass over a dump's pages, summed per size class, per segment and per heap. Arrays indexed by small dense
 * ints (bin + 1, segment ordinal, heap position) are all these aggregations need, which is why the tool has no
 * collections library.
 */
final class Totals {

    /** Slot of a bin in the per-bin arrays: huge blocks (bin -1) are slot 0. */
    static int slot(int bin) {
        return bin + 1;
    }

    final int bins;
    final long[] binPages;
    final long[] binLiveBlocks;
    final long[] binCapacityBlocks;
    final long[] binReservedBlocks;
    final long[] binLiveBytes;
    final long[] binAreaBytes;
    final long[] binBlockSize;

    final long[] segPages;
    final long[] segLiveBlocks;
    final long[] segLiveBytes;
    final long[] segAreaBytes;

    /** Heaps in dump order, and the position of each heap id. */
    final List<HeapInfo> heaps;
    final Map<Integer, Integer> heapIndex = new HashMap<>();
    final long[] heapSegments;
    final long[] heapPages;
    final long[] heapLiveBlocks;
    final long[] heapLiveBytes;
    final long[] heapCommitted;

    long pages;
    long liveBlocks;
    long liveBytes;
    long pendingRemoteFrees;
    /** Committed page area of formatted pages not holding live blocks: free blocks, uncarved blocks, tails. */
    long freeInUsedPages;
    long fullPages;
    long committed;
    long reserved;
    long purged;
    long pendingPurge;
    long metadata;
    long abandonedCommitted;
    long abandonedSegments;
    /** Pages in the page pool, and pages another heap than their segment's owns (adopted from it). */
    long pooledPages;
    long lentPages;
    /** Live bytes in pages no heap of the dump owns: pooled pages, abandoned segments, orphan huge blocks. */
    long liveBytesWithoutHeap;

    Totals(HeapDump dump) {
        bins = dump.header().binCount() + 1;
        binPages = new long[bins];
        binLiveBlocks = new long[bins];
        binCapacityBlocks = new long[bins];
        binReservedBlocks = new long[bins];
        binLiveBytes = new long[bins];
        binAreaBytes = new long[bins];
        binBlockSize = new long[bins];
        List<SegmentInfo> segments = dump.segments();
        segPages = new long[segments.size()];
        segLiveBlocks = new long[segments.size()];
        segLiveBytes = new long[segments.size()];
        segAreaBytes = new long[segments.size()];
        heaps = dump.heaps();
        for (int i = 0; i < heaps.size(); i++) {
            heapIndex.putIfAbsent(heaps.get(i).id(), i);
        }
        heapSegments = new long[heaps.size()];
        heapPages = new long[heaps.size()];
        heapLiveBlocks = new long[heaps.size()];
        heapLiveBytes = new long[heaps.size()];
        heapCommitted = new long[heaps.size()];
        for (SegmentInfo segment : segments) {
            committed += segment.committedBytes();
            reserved += segment.size();
            purged += segment.purgedBytes();
            pendingPurge += segment.pendingPurgeBytes();
            metadata += Math.min(segment.metadataSize(), segment.size());
            if (segment.abandoned()) {
                abandonedSegments++;
                abandonedCommitted += segment.committedBytes();
            }
            Integer heap = heapIndex.get(segment.heapId());
            if (heap != null) {
                heapSegments[heap]++;
                heapCommitted[heap] += segment.committedBytes();
            }
        }
        for (PageInfo page : dump.pages()) {
            add(dump.segmentOf(page), page);
        }
    }

    private void add(SegmentInfo segment, PageInfo page) {
        int slot = slot(page.bin());
        // A huge segment commits only its block, not the rest of its reservation.
        long area = page.huge() ? page.blockSize() : segment.pageAreaBytes(page.index());
        pages++;
        liveBlocks += page.liveBlocks();
        liveBytes += page.liveBytes();
        pendingRemoteFrees += page.xthreadFree();
        freeInUsedPages += Math.max(0, area - page.liveBytes());
        fullPages += page.flag(dev.cairn.tools.heapdump.DumpFormat.PAGE_IN_FULL) ? 1 : 0;
        binPages[slot]++;
        binLiveBlocks[slot] += page.liveBlocks();
        binCapacityBlocks[slot] += page.capacity();
        binReservedBlocks[slot] += page.reserved();
        binLiveBytes[slot] += page.liveBytes();
        binAreaBytes[slot] += area;
        binBlockSize[slot] = page.huge() ? 0 : page.blockSize();
        segPages[segment.ordinal()]++;
        segLiveBlocks[segment.ordinal()] += page.liveBlocks();
        segLiveBytes[segment.ordinal()] += page.liveBytes();
        segAreaBytes[segment.ordinal()] += area;
        pooledPages += page.owner() == dev.cairn.tools.heapdump.DumpFormat.OWNER_POOLED ? 1 : 0;
        lentPages += page.owner() == dev.cairn.tools.heapdump.DumpFormat.OWNER_LENT ? 1 : 0;
        // the page's own heap: the page pool lets it differ from the segment's
        Integer heap = heapIndex.get(page.ownerHeap()); // 0, no heap: pooled, or nobody's with its segment
        if (heap == null) {
            liveBytesWithoutHeap += page.liveBytes();
        } else {
            heapPages[heap]++;
            heapLiveBlocks[heap] += page.liveBlocks();
            heapLiveBytes[heap] += page.liveBytes();
        }
    }

    static double ratio(long part, long whole) {
        return whole == 0 ? 0 : (double) part / whole;
    }

    /** The name of a bin slot: its block size, or "huge". */
    String binName(int slot) {
        return slot == 0 ? "huge" : Long.toString(binBlockSize[slot]);
    }
}
