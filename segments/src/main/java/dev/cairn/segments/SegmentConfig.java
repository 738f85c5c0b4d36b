package dev.cairn.segments;

import java.util.Objects;

/**
 * How a {@link SegmentSpace} gets memory from the operating system. Immutable; validated when built, so a
 * {@code SegmentConfig} that exists is a legal one (the one check left for {@link SegmentSpace#create} is
 * {@code commitUnit >= } the OS page size, which only the running system knows).
 *
 * @param segmentSize     bytes per segment and the alignment of every segment; a power of two from
 *                        {@link #MIN_SEGMENT_SIZE} (4 MiB) to {@link #MAX_SEGMENT_SIZE} (256 MiB). Default 32 MiB, the
 *                        mimalloc figure: large enough that per-segment bookkeeping is noise, small enough that an
 *                        idle segment is cheap to hand back.
 * @param commitUnit      granularity of commit, decommit and purge and of their accounting; a power of two, at least
 *                        {@link #MIN_COMMIT_UNIT} and the OS page size, at most {@code segmentSize}. Default 64 KiB:
 *                        one bit per unit keeps a 32 MiB segment's commit map at 64 bytes, and few enough system
 *                        calls that commit stays off the profile.
 * @param backend         where memory comes from; see {@link Backend}.
 * @param hugePages       whether to ask for huge pages; see {@link HugePages}. A refusal falls back to normal pages.
 * @param purgeMode       what {@link SegmentSpace#purge} asks the OS for; see {@link PurgeMode}.
 * @param commitOnReserve commit every new segment whole at reservation (one extra system call), for callers that
 *                        would commit it all anyway.
 */
public record SegmentConfig(
        long segmentSize,
        long commitUnit,
        Backend backend,
        HugePages hugePages,
        PurgeMode purgeMode,
        boolean commitOnReserve) {

    public static final long MIN_SEGMENT_SIZE = 4L << 20;
    public static final long MAX_SEGMENT_SIZE = 256L << 20;
    public static final long DEFAULT_SEGMENT_SIZE = 32L << 20;
    public static final long MIN_COMMIT_UNIT = 4L << 10;
    public static final long DEFAULT_COMMIT_UNIT = 64L << 10;

    /** Where segments come from. */
    public enum Backend {
        /** {@link #MMAP} on Linux (x86_64, aarch64), {@link #ARENA} elsewhere. */
        AUTO,
        /**
         * Address space reserved with {@code mmap(PROT_NONE, MAP_NORESERVE)}; commit is {@code mprotect}, purge is
         * {@code madvise}. Only on Linux x86_64/aarch64: {@link SegmentSpace#create} refuses it elsewhere.
         */
        MMAP,
        /**
         * One {@code Arena.ofShared()} per segment, works wherever the JDK does. Memory is committed (and zeroed)
         * from reservation to release: commit, decommit and purge do nothing but count; huge pages are never
         * obtained.
         */
        ARENA
    }

    /** Huge-page policy. Whatever is asked, {@link Segment#backing()} says what was obtained. */
    public enum HugePages {
        /** Normal pages only. */
        OFF,
        /**
         * Advise transparent huge pages ({@code madvise(MADV_HUGEPAGE)}) over each segment. Obtained when the
         * kernel's THP mode is {@code always} or {@code madvise}; with {@code never} (or no THP) the segment stays
         * normal and a fallback is counted. Purging less than a huge page splits it back into small pages.
         */
        TRANSPARENT,
        /**
         * Map explicit huge pages ({@code MAP_HUGETLB}) from the kernel's reserved pool. Falls back to normal pages
         * (counted) when the pool cannot cover the segment. Explicit huge pages are pinned: committed at
         * reservation, and decommit/purge on them do nothing but count.
         */
        EXPLICIT
    }

    /** What {@link SegmentSpace#purge} does to committed memory that is no longer needed. */
    public enum PurgeMode {
        /**
         * {@code madvise(MADV_DONTNEED)}: the pages leave the process at once, so RSS drops immediately, and the
         * next touch reads zeros. The default, because users watch RSS (mimalloc#776: {@code MADV_FREE} made RSS
         * look stuck and was reported as a leak).
         */
        DONTNEED,
        /**
         * {@code madvise(MADV_FREE)}: the kernel may take the pages back lazily, under memory pressure; until then
         * they stay resident (and in RSS), and a write cancels the free. Cheaper to reuse, but RSS does not drop.
         * Kernels without {@code MADV_FREE} (before 4.5) get {@code DONTNEED} instead.
         */
        FREE
    }

    public SegmentConfig {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(hugePages, "hugePages");
        Objects.requireNonNull(purgeMode, "purgeMode");
        if (!isPowerOfTwo(segmentSize) || segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
            throw new IllegalArgumentException("segmentSize must be a power of two from 4 MiB to 256 MiB, was "
                    + segmentSize + " bytes");
        }
        if (!isPowerOfTwo(commitUnit) || commitUnit < MIN_COMMIT_UNIT || commitUnit > segmentSize) {
            throw new IllegalArgumentException("commitUnit must be a power of two from 4 KiB to segmentSize ("
                    + segmentSize + " bytes), was " + commitUnit + " bytes");
        }
    }

    /** 32 MiB segments, 64 KiB commit units, {@link Backend#AUTO}, no huge pages, DONTNEED purge, lazy commit. */
    public static SegmentConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this configuration. */
    public Builder toBuilder() {
        return new Builder()
                .segmentSize(segmentSize)
                .commitUnit(commitUnit)
                .backend(backend)
                .hugePages(hugePages)
                .purgeMode(purgeMode)
                .commitOnReserve(commitOnReserve);
    }

    private static boolean isPowerOfTwo(long value) {
        return value > 0 && (value & (value - 1)) == 0;
    }

    /** Starts from {@link #defaults()}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private long segmentSize = DEFAULT_SEGMENT_SIZE;
        private long commitUnit = DEFAULT_COMMIT_UNIT;
        private Backend backend = Backend.AUTO;
        private HugePages hugePages = HugePages.OFF;
        private PurgeMode purgeMode = PurgeMode.DONTNEED;
        private boolean commitOnReserve;

        private Builder() {
        }

        public Builder segmentSize(long bytes) {
            this.segmentSize = bytes;
            return this;
        }

        public Builder commitUnit(long bytes) {
            this.commitUnit = bytes;
            return this;
        }

        public Builder backend(Backend backend) {
            this.backend = backend;
            return this;
        }

        public Builder hugePages(HugePages hugePages) {
            this.hugePages = hugePages;
            return this;
        }

        public Builder purgeMode(PurgeMode purgeMode) {
            this.purgeMode = purgeMode;
            return this;
        }

        public Builder commitOnReserve(boolean commitOnReserve) {
            this.commitOnReserve = commitOnReserve;
            return this;
        }

        /** @throws IllegalArgumentException for sizes outside the documented ranges */
        public SegmentConfig build() {
            return new SegmentConfig(segmentSize, commitUnit, backend, hugePages, purgeMode, commitOnReserve);
        }
    }
}
