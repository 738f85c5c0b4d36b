package dev.cairn.alloc;

import dev.cairn.segments.SegmentConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * How an {@link Allocator} is built. System properties are read in one place, {@link #fromSystemProperties()}:
 * {@code cairn.segmentSize} (bytes), {@code cairn.checked} (true/false), {@code cairn.purgeDelayMillis},
 * {@code cairn.hugePages} (OFF/TRANSPARENT/EXPLICIT), {@code cairn.commitLimit} (bytes, 0 = none),
 * {@code cairn.freeFill} (a byte value 0-255 written over freed blocks, -1 = off), {@code cairn.sampleRate}
 * (0 = off, 1 = strict: every allocation, N = about one in N), {@code cairn.dumpOnClose} (a file to write a heap dump
 * to when the allocator closes; {@code {id}} in it becomes the allocator's domain id), {@code cairn.pagePool}
 * (true/false).
 *
 * @param segmentSize power of two, 4 MiB to 256 MiB
 * @param checked validate every caller address (the default); unchecked mode is unsafe
 * @param purgeDelay how long a retired page keeps its memory before it is purged (0 = at once); a page whose segment
 *     is still retiring or reusing pages (at least one every tenth of the delay) waits until it stops, at most ten
 *     delays after the segment's last retirement or reuse, much as mimalloc's segments do: those are the pages its
 *     thread is cycling through. A whole segment given back keeps its memory ten delays, as mimalloc's arenas do,
 *     while such segments hold at most half of what the allocator has committed (past that, one delay), and no longer
 *     than until the allocator would commit past its peak
 * @param hugePages huge-page policy for segments
 * @param commitLimit most bytes this allocator may have committed (0 = no limit); past it, {@link OutOfMemoryError}.
 *     Released memory kept mapped only so that a stale {@code MemorySegment} of this allocator reads mapped memory
 *     (purged, so it holds no RAM) is not counted, though {@code committedBytes} in the stats includes it. A
 *     segment of explicit huge pages is pinned, so it counts whole from its reservation
 * @param freeFill byte written over freed blocks (after their first 8 bytes, which hold the free-list link), or -1
 * @param sampleRate allocation-site sampling: 0 off (the default), 1 records every allocation (strict, for tests),
 *                   N records the Java stack of about one allocation in N (see {@link #DEFAULT_SAMPLE_RATE})
 * @param dumpOnClose file a heap dump is written to on {@code close()} ({@code {id}} becomes the domain id), or null
 * @param pagePool thread heaps give full pages beyond two per size class to a pool that other heaps adopt from once
 *     other threads have freed into them, so a thread that filled pages and then went idle without releasing its
 *     heap does not keep the room other threads free in them (larson with its main thread idle: peak 1.4-1.6x the
 *     live data instead of 2.3x). On by default; {@code false} keeps every page with the heap that formatted it
 *     until that heap ends (docs/benchmarks.md, "The page pool on by default")
 */
public record AllocatorConfig(long segmentSize, boolean checked, Duration purgeDelay, SegmentConfig.HugePages hugePages,
        long commitLimit, int freeFill, int sampleRate, String dumpOnClose, boolean pagePool) {

    public static final Duration DEFAULT_PURGE_DELAY = Duration.ofMillis(10);
    /** The sampling rate {@link Builder#sampling(boolean) sampling(true)} picks: one allocation in 1,000. */
    public static final int DEFAULT_SAMPLE_RATE = 1000;
    /** The longest purge delay: {@code Long.MAX_VALUE} nanoseconds (about 292 years). */
    public static final Duration MAX_PURGE_DELAY = Duration.ofNanos(Long.MAX_VALUE);

    public AllocatorConfig {
        Objects.requireNonNull(purgeDelay, "purgeDelay");
        Objects.requireNonNull(hugePages, "hugePages");
        SegmentConfig.builder().segmentSize(segmentSize).build(); // validates the size, with its message
        if (purgeDelay.isNegative()) {
            throw new IllegalArgumentException("purgeDelay must not be negative: " + purgeDelay);
        }
        if (purgeDelay.compareTo(MAX_PURGE_DELAY) > 0) { // the allocator keeps it in nanoseconds, in a long
            throw new IllegalArgumentException("purgeDelay must be at most " + MAX_PURGE_DELAY + ": " + purgeDelay);
        }
        if (commitLimit < 0) {
            throw new IllegalArgumentException("commitLimit must not be negative: " + commitLimit);
        }
        if (freeFill < -1 || freeFill > 255) {
            throw new IllegalArgumentException("freeFill must be -1 (off) or a byte value 0-255: " + freeFill);
        }
        if (sampleRate < 0) {
            throw new IllegalArgumentException("sampleRate must be 0 (off), 1 (every allocation) or more: "
                    + sampleRate);
        }
        if (dumpOnClose != null) {
            checkDumpPath(dumpOnClose);
        }
    }

    /** Refused now rather than at close, where a path that cannot be written only logs a warning. */
    private static void checkDumpPath(String dumpOnClose) {
        if (dumpOnClose.isBlank()) {
            throw new IllegalArgumentException("dumpOnClose must be a file path or null (no dump), was \""
                    + dumpOnClose + "\"");
        }
        try {
            java.nio.file.Path.of(dumpOnClose.replace("{id}", "0"));
        } catch (java.nio.file.InvalidPathException e) {
            throw new IllegalArgumentException("dumpOnClose is not a file path: " + e.getMessage(), e);
        }
    }

    public static AllocatorConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().segmentSize(segmentSize).checked(checked).purgeDelay(purgeDelay).hugePages(hugePages)
                .commitLimit(commitLimit).freeFill(freeFill).sampleRate(sampleRate).dumpOnClose(dumpOnClose)
                .pagePool(pagePool);
    }

    /**
     * The defaults, overridden by any {@code cairn.*} system property that is set. A value that does not parse is an
     * {@link IllegalArgumentException} naming the property: {@code cairn.checked} in particular takes only
     * {@code true} or {@code false}, as anything else read as {@code false} would turn the checks off. A value out of
     * range is one too, and so is a {@code cairn.NAME} property (no further dot) that is none of these: a misspelt
     * name such as {@code cairn.purgeDelay} would otherwise be ignored. Properties of other layers and tools have a
     * further dot ({@code cairn.runtime.*}) and are left alone.
     */
    public static AllocatorConfig fromSystemProperties() {
        refuseUnknownProperties();
        Builder builder = builder();
        String value;
        if ((value = System.getProperty("cairn.segmentSize")) != null) {
            long bytes = longProperty("cairn.segmentSize", value);
            inRange(builder, "cairn.segmentSize", value, b -> b.segmentSize(bytes));
        }
        if ((value = System.getProperty("cairn.checked")) != null) {
            builder.checked(booleanProperty("cairn.checked", value));
        }
        if ((value = System.getProperty("cairn.purgeDelayMillis")) != null) {
            Duration delay = Duration.ofMillis(longProperty("cairn.purgeDelayMillis", value));
            inRange(builder, "cairn.purgeDelayMillis", value, b -> b.purgeDelay(delay));
        }
        if ((value = System.getProperty("cairn.hugePages")) != null) {
            try {
                builder.hugePages(SegmentConfig.HugePages.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw badProperty("cairn.hugePages", value, java.util.Arrays.toString(SegmentConfig.HugePages.values()),
                        e);
            }
        }
        if ((value = System.getProperty("cairn.commitLimit")) != null) {
            long bytes = longProperty("cairn.commitLimit", value);
            inRange(builder, "cairn.commitLimit", value, b -> b.commitLimit(bytes));
        }
        if ((value = System.getProperty("cairn.freeFill")) != null) {
            int fill = intProperty("cairn.freeFill", value);
            inRange(builder, "cairn.freeFill", value, b -> b.freeFill(fill));
        }
        if ((value = System.getProperty("cairn.sampleRate")) != null) {
            int rate = intProperty("cairn.sampleRate", value);
            inRange(builder, "cairn.sampleRate", value, b -> b.sampleRate(rate));
        }
        if ((value = System.getProperty("cairn.pagePool")) != null) {
            builder.pagePool(booleanProperty("cairn.pagePool", value));
        }
        if ((value = System.getProperty("cairn.dumpOnClose")) != null && !value.isBlank()) {
            String path = value.trim();
            inRange(builder, "cairn.dumpOnClose", value, b -> b.dumpOnClose(path));
        }
        return builder.build();
    }

    /**
     * Sets one property's value, refusing it here, with the property's name, if the record would refuse it: the
     * record's own message does not say where the value came from. Each setting is checked alone, on the defaults,
     * since no setting's range depends on another's.
     */
    private static void inRange(Builder builder, String name, String value, java.util.function.Consumer<Builder> set) {
        try {
            Builder alone = builder();
            set.accept(alone);
            alone.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("system property " + name + "=\"" + value + "\" is out of range: "
                    + e.getMessage(), e);
        }
        set.accept(builder);
    }

    private static final java.util.Set<String> PROPERTIES = java.util.Set.of("cairn.segmentSize", "cairn.checked",
            "cairn.purgeDelayMillis", "cairn.hugePages", "cairn.commitLimit", "cairn.freeFill", "cairn.sampleRate",
            "cairn.dumpOnClose", "cairn.pagePool");

    private static void refuseUnknownProperties() {
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("cairn.") && name.indexOf('.', "cairn.".length()) < 0 && !PROPERTIES.contains(name)) {
                throw new IllegalArgumentException("system property " + name + "=\"" + System.getProperty(name)
                        + "\" is not a Cairn allocator setting; they are " + new java.util.TreeSet<>(PROPERTIES));
            }
        }
    }

    private static long longProperty(String name, String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw badProperty(name, value, "a whole number", e);
        }
    }

    private static int intProperty(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw badProperty(name, value, "a whole number", e);
        }
    }

    private static boolean booleanProperty(String name, String value) {
        String trimmed = value.trim();
        if (trimmed.equalsIgnoreCase("true") || trimmed.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(trimmed);
        }
        throw badProperty(name, value, "true or false", null);
    }

    private static IllegalArgumentException badProperty(String name, String value, String expected,
            Throwable cause) {
        return new IllegalArgumentException("system property " + name + " must be " + expected + ", was \""
                + value + "\"", cause);
    }

    /** The segment-layer configuration this allocator uses. */
    public SegmentConfig segmentConfig() {
        return SegmentConfig.builder().segmentSize(segmentSize).hugePages(hugePages).build();
    }

    public static final class Builder {
        private long segmentSize = SegmentConfig.DEFAULT_SEGMENT_SIZE;
        private boolean checked = true;
        private Duration purgeDelay = DEFAULT_PURGE_DELAY;
        private SegmentConfig.HugePages hugePages = SegmentConfig.HugePages.OFF;
        private long commitLimit;
        private int freeFill = -1;
        private int sampleRate;
        private String dumpOnClose;
        private boolean pagePool = true;

        private Builder() {
        }

        public Builder segmentSize(long bytes) {
            this.segmentSize = bytes;
            return this;
        }

        public Builder checked(boolean checked) {
            this.checked = checked;
            return this;
        }

        public Builder purgeDelay(Duration delay) {
            this.purgeDelay = delay;
            return this;
        }

        public Builder hugePages(SegmentConfig.HugePages hugePages) {
            this.hugePages = hugePages;
            return this;
        }

        public Builder commitLimit(long bytes) {
            this.commitLimit = bytes;
            return this;
        }

        public Builder freeFill(int fill) {
            this.freeFill = fill;
            return this;
        }

        /** 0 = off, 1 = every allocation (strict), N = about one allocation in N. */
        public Builder sampleRate(int rate) {
            this.sampleRate = rate;
            return this;
        }

        /** On: {@link #DEFAULT_SAMPLE_RATE}; off: 0. */
        public Builder sampling(boolean on) {
            return sampleRate(on ? DEFAULT_SAMPLE_RATE : 0);
        }

        /** Records the stack of every allocation: exact site totals, for tests (slow). */
        public Builder strictSampling() {
            return sampleRate(1);
        }

        /** Writes a heap dump to {@code path} on close ({@code {id}} becomes the domain id); null for none. */
        public Builder dumpOnClose(String path) {
            this.dumpOnClose = path;
            return this;
        }

        /**
         * Whether full pages beyond two per size class go to the page pool (on by default; see
         * {@link AllocatorConfig#pagePool}).
         */
        public Builder pagePool(boolean on) {
            this.pagePool = on;
            return this;
        }

        public AllocatorConfig build() {
            return new AllocatorConfig(segmentSize, checked, purgeDelay, hugePages, commitLimit, freeFill, sampleRate,
                    dumpOnClose, pagePool);
        }
    }
}
