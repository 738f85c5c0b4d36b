package dev.cairn.segments.internal;

import dev.cairn.segments.SegmentStats;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live counters behind {@link SegmentStats}, one set per space, updated by any thread without locks.
 *
 * <p>Gauges with a peak ({@code reserved}, {@code committed}) are {@link AtomicLong}s: the peak is raised with the
 * value the add returned, so it never misses a maximum. Monotonic counts are {@link LongAdder}s, which stay cheap
 * under contention. Updates happen after the OS call they describe succeeded, so failures never skew bytes.
 */
final class SpaceCounters {

    private final AtomicLong reserved = new AtomicLong();
    private final AtomicLong peakReserved = new AtomicLong();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong peakCommitted = new AtomicLong();
    private final AtomicLong liveSegments = new AtomicLong();
    private final LongAdder purged = new LongAdder();
    private final LongAdder decommitted = new LongAdder();
    private final LongAdder mapCalls = new LongAdder();
    private final LongAdder unmapCalls = new LongAdder();
    private final LongAdder protectCalls = new LongAdder();
    private final LongAdder adviseCalls = new LongAdder();
    private final LongAdder failedCalls = new LongAdder();
    private final LongAdder hugePageFallbacks = new LongAdder();
    private final LongAdder noOpRequests = new LongAdder();

    void reserved(long bytes, long committedBytes) {
        raisePeak(peakReserved, reserved.addAndGet(bytes));
        liveSegments.incrementAndGet();
        committed(committedBytes);
    }

    void released(long bytes, long committedBytes) {
        committed.addAndGet(-committedBytes);
        reserved.addAndGet(-bytes);
        liveSegments.decrementAndGet();
    }

    void committed(long bytes) {
        if (bytes != 0) {
            raisePeak(peakCommitted, committed.addAndGet(bytes));
        }
    }

    void decommitted(long bytes) {
        decommitted(bytes, bytes);
    }

    /** {@code bytes} made inaccessible, of which {@code committedBytes} still counted as committed (not purged). */
    void decommitted(long committedBytes, long bytes) {
        committed.addAndGet(-committedBytes);
        decommitted.add(bytes);
    }

    void purged(long bytes) {
        purged.add(bytes);
    }

    /** Committed bytes given back without a decommit (a purge): they stop counting as committed. */
    void uncommitted(long bytes) {
        committed.addAndGet(-bytes);
    }

    void mapCall() {
        mapCalls.increment();
    }

    void unmapCall() {
        unmapCalls.increment();
    }

    void protectCall() {
        protectCalls.increment();
    }

    void adviseCall() {
        adviseCalls.increment();
    }

    void failedCall() {
        failedCalls.increment();
    }

    void hugePageFallback() {
        hugePageFallbacks.increment();
    }

    void noOpRequest() {
        noOpRequests.increment();
    }

    long reservedBytes() {
        return reserved.get();
    }

    long committedBytes() {
        return committed.get();
    }

    long liveSegments() {
        return liveSegments.get();
    }

    SegmentStats snapshot() {
        return new SegmentStats(reserved.get(), peakReserved.get(), committed.get(), peakCommitted.get(),
                purged.sum(), decommitted.sum(), liveSegments.get(), mapCalls.sum(), unmapCalls.sum(),
                protectCalls.sum(), adviseCalls.sum(), failedCalls.sum(), hugePageFallbacks.sum(),
                noOpRequests.sum());
    }

    private static void raisePeak(AtomicLong peak, long value) {
        long seen = peak.get();
        while (value > seen && !peak.compareAndSet(seen, value)) {
            seen = peak.get();
        }
    }
}
