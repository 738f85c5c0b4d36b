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
 * @param heapsLive heaps in use now: platform threads' heaps, arenas' heaps and the shared heaps of virtual threads
 * @param liveSegments segments holding pages or huge blocks (owned or abandoned)
 * @param cachedSegments released segments kept mapped (purged) for reuse
 * @param reservedBytes address space reserved from the OS
 * @param peakReservedBytes highest {@code reservedBytes} seen
 * @param committedBytes memory committed
 * @param peakCommittedBytes highest {@code committedBytes} seen
 * @param purgedBytes bytes given back to the OS by purges, cumulative
 * @param allocatedBytes bytes in blocks in use (block sizes, not requested sizes)
 * @param blocksInUse blocks in use
 * @param pages pages holding a size class
 * @param remoteFrees frees by a thread other than the block's owner, cumulative, counted when the owner (or whoever
 *     holds an abandoned segment) collects them: the free path itself keeps no counter; a huge block, which no list
 *     collects, is counted when it is freed. A virtual threads' shared heap is owned by whoever holds its lock: a
 *     checked free that takes it frees as the owner and is not counted here
 * @param slowPathCalls allocation slow-path calls, cumulative
 * @param abandonedSegments segments in the abandoned pool now (live blocks, no heap)
 * @param segmentsAbandoned segments given to the abandoned pool by ending heaps, cumulative
 * @param segmentsReclaimed abandoned segments adopted by a live heap, cumulative
 * @param segmentsReleased abandoned segments given back to the OS once other threads had freed all their blocks
 *     (without being adopted), cumulative
 * @param heapsReleased heaps given up by their thread ({@code Heap.release}), cumulative
 * @param deadThreadsDetected heaps whose thread ended without releasing them, found and abandoned, cumulative
 * @param delayedFreesPending blocks passed to {@code freeDelayed} and not yet freed (counted in use until then)
 * @param pooledPages pages in the page pool now ({@code AllocatorConfig.pagePool}; 0 when it is off): full pages a
 *     thread heap gave up, and pages of others' segments an ending heap handed on
 * @param pagesGivenToPool pages given to the page pool, cumulative
 * @param pagesAdoptedFromPool pooled pages a heap that needed room adopted, cumulative
 * @param pagesReclaimedOnFree pooled pages taken back by a thread freeing into them (the giver's, or any for an
 *     ended heap's page), cumulative
 * @param bins per size class, only classes with pages
 */
public record AllocatorStats(int version, boolean checked, int heapsLive, long liveSegments, long cachedSegments,
        long reservedBytes, long peakReservedBytes, long committedBytes, long peakCommittedBytes, long purgedBytes,
        long allocatedBytes, long blocksInUse, long pages, long remoteFrees, long slowPathCalls,
        long abandonedSegments, long segmentsAbandoned, long segmentsReclaimed, long segmentsReleased,
        long heapsReleased, long deadThreadsDetected, long delayedFreesPending, long pooledPages,
        long pagesGivenToPool, long pagesAdoptedFromPool, long pagesReclaimedOnFree, List<BinStats> bins) {

    /** 3: the page pool's counters. */
    public static final int VERSION = 3;

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
                .append(",\"heapsLive\":").append(heapsLive).append(",\"liveSegments\":").append(liveSegments)
                .append(",\"cachedSegments\":").append(cachedSegments)
                .append(",\"reservedBytes\":").append(reservedBytes)
                .append(",\"peakReservedBytes\":").append(peakReservedBytes)
                .append(",\"committedBytes\":").append(committedBytes)
                .append(",\"peakCommittedBytes\":").append(peakCommittedBytes)
                .append(",\"purgedBytes\":").append(purgedBytes).append(",\"allocatedBytes\":").append(allocatedBytes)
                .append(",\"blocksInUse\":").append(blocksInUse).append(",\"pages\":").append(pages)
                .append(",\"remoteFrees\":").append(remoteFrees).append(",\"slowPathCalls\":").append(slowPathCalls)
                .append(",\"abandonedSegments\":").append(abandonedSegments)
                .append(",\"segmentsAbandoned\":").append(segmentsAbandoned)
                .append(",\"segmentsReclaimed\":").append(segmentsReclaimed)
                .append(",\"segmentsReleased\":").append(segmentsReleased)
                .append(",\"heapsReleased\":").append(heapsReleased)
                .append(",\"deadThreadsDetected\":").append(deadThreadsDetected)
                .append(",\"delayedFreesPending\":").append(delayedFreesPending)
                .append(",\"pooledPages\":").append(pooledPages)
                .append(",\"pagesGivenToPool\":").append(pagesGivenToPool)
                .append(",\"pagesAdoptedFromPool\":").append(pagesAdoptedFromPool)
                .append(",\"pagesReclaimedOnFree\":").append(pagesReclaimedOnFree)
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
