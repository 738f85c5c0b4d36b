package dev.cairn.reclaim;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;

/**
 * How a {@link Qsbr} domain frees deferred addresses and how much deferred work it lets pile up.
 *
 * <p>All limits are per registered thread: each thread's queue is bounded on its own, so threads never contend on
 * a shared counter, and the domain-wide bound is the number of threads times the limit (plus what threads that
 * left behind, which any thread processes as soon as it is due).
 *
 * <table>
 *   <caption>Components and defaults</caption>
 *   <tr><th>component</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code free}</td><td>none ({@code null})</td>
 *       <td>frees one deferred address; without it the domain only defers {@link Runnable}s</td></tr>
 *   <tr><td>{@code sizeOf}</td><td>every address counts 0 bytes</td>
 *       <td>bytes held by a deferred address (&ge; 0); feeds the byte limit. Tasks count 0 bytes</td></tr>
 *   <tr><td>{@code deferredBytesLimit}</td><td>{@value #DEFAULT_DEFERRED_BYTES_LIMIT} (1 MiB)</td>
 *       <td>when one more item would take a thread's queue past it, that thread forces an advance, runs what is
 *       due and, if still over, waits up to {@code maxStall} for the other threads, inside {@code defer} or, if
 *       another writer waiting there holds it back, at its next quiescent point (CPython forces an advance at
 *       1 MiB)</td></tr>
 *   <tr><td>{@code queueThreshold}</td><td>{@value #DEFAULT_QUEUE_THRESHOLD}</td>
 *       <td>queue length at which {@code defer} also looks for due items (besides quiescent points)</td></tr>
 *   <tr><td>{@code advanceInterval}</td><td>{@value #DEFAULT_ADVANCE_INTERVAL}</td>
 *       <td>{@link QsbrThread#deferredAdvance()} really advances the write sequence once per this many calls
 *       (CPython's deferred advance; its obmalloc uses 127)</td></tr>
 *   <tr><td>{@code maxStall}</td><td>10 ms</td>
 *       <td>longest one wait of a writer over the byte limit; when it runs out the writer goes on past the limit
 *       (counted as an overrun) and waits again only after one more limit's worth; zero never waits</td></tr>
 *   <tr><td>{@code initialSlots}</td><td>{@value #DEFAULT_INITIAL_SLOTS}</td>
 *       <td>first capacity of the slot table; it doubles as threads register</td></tr>
 * </table>
 *
 * @param free               frees a deferred address, or {@code null} if the domain defers only tasks
 * @param sizeOf             bytes of a deferred address, never negative
 * @param deferredBytesLimit per-thread bound on deferred bytes, &gt; 0
 * @param queueThreshold     per-thread queue length that triggers processing from {@code defer}, &gt; 0
 * @param advanceInterval    deferred advances per real advance, &gt; 0
 * @param maxStall           longest wait for readers when over the byte limit, &ge; 0
 * @param initialSlots       initial slot-table capacity, &gt; 0
 */
public record QsbrConfig(
        LongConsumer free,
        LongUnaryOperator sizeOf,
        long deferredBytesLimit,
        int queueThreshold,
        int advanceInterval,
        Duration maxStall,
        int initialSlots) {

    public static final long DEFAULT_DEFERRED_BYTES_LIMIT = 1L << 20;
    public static final int DEFAULT_QUEUE_THRESHOLD = 256;
    public static final int DEFAULT_ADVANCE_INTERVAL = 128;
    public static final Duration DEFAULT_MAX_STALL = Duration.ofMillis(10);
    public static final int DEFAULT_INITIAL_SLOTS = 8;

    private static final LongUnaryOperator ZERO_BYTES = address -> 0;

    /** Validates every component; see the class table for the ranges. */
    public QsbrConfig {
        Objects.requireNonNull(sizeOf, "sizeOf");
        Objects.requireNonNull(maxStall, "maxStall");
        positive("deferredBytesLimit", deferredBytesLimit);
        positive("queueThreshold", queueThreshold);
        positive("advanceInterval", advanceInterval);
        positive("initialSlots", initialSlots);
        if (maxStall.isNegative()) {
            throw new IllegalArgumentException("maxStall must be >= 0, got " + maxStall);
        }
    }

    /** The defaults: no free function (tasks only), sizes 0, the limits in the class table. */
    public static QsbrConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this configuration. */
    public Builder toBuilder() {
        return new Builder()
                .free(free)
                .sizeOf(sizeOf)
                .deferredBytesLimit(deferredBytesLimit)
                .queueThreshold(queueThreshold)
                .advanceInterval(advanceInterval)
                .maxStall(maxStall)
                .initialSlots(initialSlots);
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }

    /** Builds a {@link QsbrConfig}; unset components take the defaults. Not thread-safe. */
    public static final class Builder {
        private LongConsumer free;
        private LongUnaryOperator sizeOf = ZERO_BYTES;
        private long deferredBytesLimit = DEFAULT_DEFERRED_BYTES_LIMIT;
        private int queueThreshold = DEFAULT_QUEUE_THRESHOLD;
        private int advanceInterval = DEFAULT_ADVANCE_INTERVAL;
        private Duration maxStall = DEFAULT_MAX_STALL;
        private int initialSlots = DEFAULT_INITIAL_SLOTS;

        private Builder() {
        }

        /** The function that frees a deferred address; {@code null} for a tasks-only domain. */
        public Builder free(LongConsumer free) {
            this.free = free;
            return this;
        }

        public Builder sizeOf(LongUnaryOperator sizeOf) {
            this.sizeOf = Objects.requireNonNull(sizeOf, "sizeOf");
            return this;
        }

        public Builder deferredBytesLimit(long bytes) {
            this.deferredBytesLimit = bytes;
            return this;
        }

        public Builder queueThreshold(int items) {
            this.queueThreshold = items;
            return this;
        }

        public Builder advanceInterval(int calls) {
            this.advanceInterval = calls;
            return this;
        }

        public Builder maxStall(Duration maxStall) {
            this.maxStall = Objects.requireNonNull(maxStall, "maxStall");
            return this;
        }

        public Builder initialSlots(int slots) {
            this.initialSlots = slots;
            return this;
        }

        public QsbrConfig build() {
            return new QsbrConfig(free, sizeOf, deferredBytesLimit, queueThreshold, advanceInterval, maxStall,
                    initialSlots);
        }
    }
}
