package dev.cairn.segments;

/**
 * A snapshot of one {@link SegmentSpace}'s counters. Immutable.
 *
 * <p>Each counter is exact; a snapshot taken while other threads reserve or commit may mix moments (it reads the
 * counters one by one), so cross-counter identities such as {@code committedBytes <= reservedBytes} hold only for a
 * snapshot taken while the space is quiet. Byte counters count whole commit units: committing 1 byte of an
 * uncommitted unit adds {@code commitUnit}.
 *
 * <p>Failed operations leave the byte counters and {@code liveSegments} unchanged; the system calls they made count
 * in the call counters and in {@code failedCalls}. The arena backend counts {@code Arena.allocate} as a map call and
 * {@code Arena.close} as an unmap call.
 *
 * @param reservedBytes     address space held by live segments
 * @param peakReservedBytes highest {@code reservedBytes} so far
 * @param committedBytes    committed bytes of live segments (always-committed backings count whole); purged units
 *                          count again only once committed again
 * @param peakCommittedBytes highest {@code committedBytes} so far
 * @param purgedBytes       cumulative bytes purged or reset (only committed units; not the no-op requests)
 * @param decommittedBytes  cumulative bytes decommitted by {@link SegmentSpace#decommit} (release is not counted)
 * @param liveSegments      segments reserved and not yet released
 * @param mapCalls          {@code mmap} calls (reservations, huge-page remaps)
 * @param unmapCalls        {@code munmap} calls (trimming, releases)
 * @param protectCalls      {@code mprotect} calls (commit, decommit)
 * @param adviseCalls       {@code madvise} calls (purge, decommit, THP advice)
 * @param failedCalls       calls above that failed (refused huge pages and ENOMEM included)
 * @param hugePageFallbacks reservations that asked for huge pages and got normal pages (or arena memory)
 * @param noOpRequests      commit, decommit and purge requests on always-committed memory, which did nothing
 */
public record SegmentStats(
        long reservedBytes,
        long peakReservedBytes,
        long committedBytes,
        long peakCommittedBytes,
        long purgedBytes,
        long decommittedBytes,
        long liveSegments,
        long mapCalls,
        long unmapCalls,
        long protectCalls,
        long adviseCalls,
        long failedCalls,
        long hugePageFallbacks,
        long noOpRequests) {

    /** Version of this record's shape and of {@link #toJson()}; bumped when a counter is added or changes meaning. */
    public static final int VERSION = 1;

    /** All system calls made: map + unmap + protect + advise. */
    public long osCalls() {
        return mapCalls + unmapCalls + protectCalls + adviseCalls;
    }

    /** One line of JSON, every component plus {@code version} and {@code osCalls}, in declaration order. */
    public String toJson() {
        return "{\"version\":" + VERSION
                + ",\"reservedBytes\":" + reservedBytes
                + ",\"peakReservedBytes\":" + peakReservedBytes
                + ",\"committedBytes\":" + committedBytes
                + ",\"peakCommittedBytes\":" + peakCommittedBytes
                + ",\"purgedBytes\":" + purgedBytes
                + ",\"decommittedBytes\":" + decommittedBytes
                + ",\"liveSegments\":" + liveSegments
                + ",\"osCalls\":" + osCalls()
                + ",\"mapCalls\":" + mapCalls
                + ",\"unmapCalls\":" + unmapCalls
                + ",\"protectCalls\":" + protectCalls
                + ",\"adviseCalls\":" + adviseCalls
                + ",\"failedCalls\":" + failedCalls
                + ",\"hugePageFallbacks\":" + hugePageFallbacks
                + ",\"noOpRequests\":" + noOpRequests
                + "}";
    }
}
