package dev.cairn.segments;

import java.util.Objects;

/**
 * A reserved, aligned range of address space: {@code [base, base + size)}, handed out by {@link SegmentSpace}.
 *
 * <p>A {@code Segment} is a value, like a pointer: the space identifies a live segment by all three components, and
 * refuses (with {@link IllegalStateException}) one that is not live, such as one already released. Once a released
 * range has been reserved again, an equal stale value names the new segment, as a stale pointer would; callers
 * that keep segments past release must drop them.
 *
 * @param base    first byte; a multiple of the space's segment size
 * @param size    bytes; the segment size, or for a huge segment a multiple of it
 * @param backing what kind of memory the OS gave, which may be less than what was asked for
 */
public record Segment(long base, long size, Backing backing) {

    /** The memory behind a segment. */
    public enum Backing {
        /** Normal OS pages; commit, decommit and purge act on them. */
        NORMAL(false),
        /** Normal pages advised as transparent huge pages; the kernel backs them with 2 MiB pages when it can. */
        TRANSPARENT_HUGE(false),
        /** Explicit huge pages ({@code MAP_HUGETLB}); pinned, so always committed. */
        EXPLICIT_HUGE(true),
        /** JDK arena memory (portable backend); always committed. */
        ARENA(true);

        private final boolean alwaysCommitted;

        Backing(boolean alwaysCommitted) {
            this.alwaysCommitted = alwaysCommitted;
        }

        /**
         * True when the memory is committed from reservation to release: commit, decommit and purge on it change
         * nothing (they only count in {@link SegmentStats#noOpRequests()}).
         */
        public boolean alwaysCommitted() {
            return alwaysCommitted;
        }
    }

    public Segment {
        Objects.requireNonNull(backing, "backing");
        if (size <= 0 || base < 0 || base > Long.MAX_VALUE - size) {
            throw new IllegalArgumentException("bad segment: base 0x" + Long.toHexString(base) + ", size " + size);
        }
    }

    /** One past the last byte. */
    public long end() {
        return base + size;
    }

    public boolean contains(long address) {
        return address >= base && address < base + size;
    }

    @Override
    public String toString() {
        return "Segment[base=0x" + Long.toHexString(base) + ", size=" + size + ", backing=" + backing + "]";
    }
}
