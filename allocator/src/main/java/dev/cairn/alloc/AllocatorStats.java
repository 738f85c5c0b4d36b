package dev.cairn.alloc;

import java.util.List;

/**
 * An immutable snapshot of an allocator, cheap enough to take every second: per size class and in total.
 *
 * <p>Block counts come from walking the page descriptors (no counter is kept on the fast paths), so while other
 * threads allocate the figures are a consistent-enough sample, not an atomic picture. {@code blocksInUse} counts
 * blocks freed by another thread but not yet collected by their owner as still in use. Byte figures of the OS
 * layer (reserved, committed, purged) are exact.
 *
 * @param version layout version of this record ({@value #VERSION})
 * @param checked whether the allocator runs in checked mode
 * @param heaps heaps created (thread heaps and arenas) and not destroyed
 * @param liveSegments segments holding pages or huge blocks
 * @param cachedSegments released segments kept mapped (purged) for reuse
 * @param reservedBytes address space reserved from the OS
 * @param peakReservedBytes highest {@code reservedBytes} seen
 * @param committedBytes memory committed
 * @param peakCommittedBytes highest {@code committedBytes} seen
 * @param purgedBytes bytes given back to the OS by purges, cumulative
 * @param allocatedBytes bytes in blocks in use (block sizes, not requested sizes)
 * @param blocksInUse blocks in use
 * @param pages pages holding a size class
 * @param remoteFrees frees by a thread other than the block's owner, cumulative
 * @param slowPathCalls allocation slow-path calls, cumulative
 * @param bins per size class, only classes with pages
 */
public record AllocatorStats(int version, boolean checked, int heaps, long liveSegments, long cachedSegments,
        long reservedBytes, long peakReservedBytes, long committedBytes, long peakCommittedBytes, long purgedBytes,
        long allocatedBytes, long blocksInUse, long pages, long remoteFrees, long slowPathCalls, List<BinStats> bins) {

    public static final int VERSION = 1;

    public AllocatorStats {
        bins = List.copyOf(bins);
    }

    /**
     * One size class.
     *
     * @param bin the class index; -1 for huge blocks
     * @param blockSize bytes per block (for huge blocks, 0: they differ)
     * @param pages pages of this class
     * @param blocksInUse blocks in use
     * @param bytesInUse bytes in those blocks
     */
    public record BinStats(int bin, long blockSize, long pages, long blocksInUse, long bytesInUse) {
    }

    /** The snapshot as one JSON object. */
    public String toJson() {
        StringBuilder json = new StringBuilder(256 + bins.size() * 96);
        json.append("{\"version\":").append(version).append(",\"checked\":").append(checked)
                .append(",\"heaps\":").append(heaps).append(",\"liveSegments\":").append(liveSegments)
                .append(",\"cachedSegments\":").append(cachedSegments)
                .append(",\"reservedBytes\":").append(reservedBytes)
                .append(",\"peakReservedBytes\":").append(peakReservedBytes)
                .append(",\"committedBytes\":").append(committedBytes)
                .append(",\"peakCommittedBytes\":").append(peakCommittedBytes)
                .append(",\"purgedBytes\":").append(purgedBytes).append(",\"allocatedBytes\":").append(allocatedBytes)
                .append(",\"blocksInUse\":").append(blocksInUse).append(",\"pages\":").append(pages)
                .append(",\"remoteFrees\":").append(remoteFrees).append(",\"slowPathCalls\":").append(slowPathCalls)
                .append(",\"bins\":[");
        for (int i = 0; i < bins.size(); i++) {
            BinStats bin = bins.get(i);
            json.append(i == 0 ? "" : ",").append("{\"bin\":").append(bin.bin()).append(",\"blockSize\":")
                    .append(bin.blockSize()).append(",\"pages\":").append(bin.pages()).append(",\"blocksInUse\":")
                    .append(bin.blocksInUse()).append(",\"bytesInUse\":").append(bin.bytesInUse()).append('}');
        }
        return json.append("]}").toString();
    }
}
