package dev.cairn.reclaim;

/**
 * A snapshot of a {@link Qsbr} domain's counters, taken by {@link Qsbr#stats()}.
 *
 * <p>Each counter is read once, from each thread's own counters (published with opaque stores) plus the totals of
 * threads that have left; the snapshot is not a consistent cut across threads, but every value is one that
 * counter really had. Items whose thread left and that another thread is running at that very moment are
 * missing from {@code deferredItems}/{@code deferredBytes} for that moment.
 *
 * @param writeSequence       the write sequence (odd, starts at 1, +2 per advance)
 * @param readSequence        the cached read sequence: every online thread had passed it when it was published
 * @param deferredBytes       bytes deferred and not yet freed, all threads and orphaned queues together
 * @param deferredItems       items (addresses and tasks) deferred and not yet run
 * @param deferredAddresses   of those, the addresses: blocks still waiting for the domain's free function
 * @param peakDeferredBytes   the largest byte count any single thread's queue has held
 * @param deferredBytesLimit  the configured per-thread limit ({@link QsbrConfig#deferredBytesLimit()})
 * @param forcedAdvances      advances forced because a queue reached the byte limit
 * @param limitOverruns       times a writer over the limit waited {@link QsbrConfig#maxStall()} for the other
 *                            threads in vain and went on past the limit
 * @param itemsProcessed      deferred items run so far
 * @param bytesProcessed      bytes of deferred addresses freed so far
 * @param threadsRegistered   threads registered now
 * @param deadThreadsDetected threads found dead while registered and unregistered on their behalf
 */
public record QsbrStats(
        long writeSequence,
        long readSequence,
        long deferredBytes,
        long deferredItems,
        long deferredAddresses,
        long peakDeferredBytes,
        long deferredBytesLimit,
        long forcedAdvances,
        long limitOverruns,
        long itemsProcessed,
        long bytesProcessed,
        int threadsRegistered,
        long deadThreadsDetected) {
}
