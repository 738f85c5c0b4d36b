package dev.cairn.tools.heapdump;

/**
 * One segment of the dump. Ranges are {@code {offset, length}} pairs relative to {@link #base()}, flattened.
 *
 * @param ordinal position in the segments section (pages refer to it)
 * @param kind index into {@link DumpFormat#KINDS}
 * @param abandonedNanos how long the segment had been abandoned when the dump was taken (0: owned)
 * @param committed committed ranges
 * @param purged committed ranges of retired pages whose memory was given back (purged)
 * @param pendingPurge committed ranges of retired pages whose purge was still pending
 */
public record SegmentInfo(int ordinal, long base, long size, int kind, boolean abandoned, int pageShift,
        int pageCount, int firstPage, int usedPages, int heapId, long ownerTid, long abandonedNanos,
        long metadataSize, long[] committed, long[] purged, long[] pendingPurge) {

    public String kindName() {
        return kind < DumpFormat.KINDS.length ? DumpFormat.KINDS[kind] : "kind-" + kind;
    }

    public boolean huge() {
        return kind == DumpFormat.KIND_HUGE;
    }

    public long committedBytes() {
        return total(committed);
    }

    public long purgedBytes() {
        return total(purged);
    }

    public long pendingPurgeBytes() {
        return total(pendingPurge);
    }

    /** Bytes of page {@code index}'s area that lie past the metadata (what a page can hold). */
    public long pageAreaBytes(int index) {
        if (huge()) {
            return size - metadataSize;
        }
        long from = Math.max((long) index << pageShift, metadataSize);
        long to = (long) (index + 1) << pageShift;
        return Math.max(0, to - from);
    }

    static long total(long[] ranges) {
        long sum = 0;
        for (int i = 1; i < ranges.length; i += 2) {
            sum += ranges[i];
        }
        return sum;
    }
}
