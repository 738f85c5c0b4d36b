package dev.cairn.segments.internal;

/**
 * Which commit units of one segment are committed: one bit per unit, bit {@code u % 64} of word {@code u / 64}
 * set when unit {@code u} (bytes {@code [u * unit, (u + 1) * unit)} of the segment) is committed.
 *
 * <p>Invariants: {@code committedUnits() == popcount(words)}; bits at or beyond {@code units} are zero. A 32 MiB
 * segment of 64 KiB units is 512 bits, eight words; a huge segment costs one bit per unit of its size.
 *
 * <p>Not thread-safe: guarded by the owning {@link LiveSegment}'s lock. Ranges are unit indices {@code [from, to)}
 * with {@code 0 <= from <= to <= units}.
 */
final class CommitMap {

    private final long[] words;
    private final long units;
    /** Number of set bits, kept so release and invariants need no scan. */
    private long committedUnits;

    CommitMap(long units, boolean allCommitted) {
        if (units <= 0 || (units + 63) >>> 6 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("commit map of " + units + " units");
        }
        this.units = units;
        this.words = new long[(int) ((units + 63) >>> 6)];
        if (allCommitted) {
            set(0, units);
        }
    }

    long units() {
        return units;
    }

    long committedUnits() {
        return committedUnits;
    }

    boolean isCommitted(long unit) {
        return (words[(int) (unit >>> 6)] & (1L << unit)) != 0;
    }

    boolean allCommitted(long from, long to) {
        return nextClear(from, to) == to;
    }

    /** Marks {@code [from, to)} committed; returns how many units were not committed before. */
    long set(long from, long to) {
        long added = 0;
        for (long w = from >>> 6; from < to && w <= (to - 1) >>> 6; w++) {
            long mask = mask(from, to, w);
            added += Long.bitCount(mask & ~words[(int) w]);
            words[(int) w] |= mask;
        }
        committedUnits += added;
        return added;
    }

    /** Marks {@code [from, to)} not committed; returns how many units were committed before. */
    long clear(long from, long to) {
        long removed = 0;
        for (long w = from >>> 6; from < to && w <= (to - 1) >>> 6; w++) {
            long mask = mask(from, to, w);
            removed += Long.bitCount(mask & words[(int) w]);
            words[(int) w] &= ~mask;
        }
        committedUnits -= removed;
        return removed;
    }

    /** The first committed unit in {@code [from, to)}, or {@code to} if none. */
    long nextSet(long from, long to) {
        return next(from, to, 0L);
    }

    /** The first uncommitted unit in {@code [from, to)}, or {@code to} if none. */
    long nextClear(long from, long to) {
        return next(from, to, -1L);
    }

    /** Recounts the bits: for invariant checks, and for the allocator's cache (SegmentSpace.committedBytes). */
    long countCommitted() {
        long count = 0;
        for (long word : words) {
            count += Long.bitCount(word);
        }
        return count;
    }

    /** Searches for a 1 bit in {@code word ^ flip}: flip 0 finds set units, flip -1 finds clear ones. */
    private long next(long from, long to, long flip) {
        if (from >= to) {
            return to;
        }
        long w = from >>> 6;
        long bits = (words[(int) w] ^ flip) & (-1L << from);
        while (bits == 0) {
            w++;
            if (w << 6 >= to) {
                return to;
            }
            bits = words[(int) w] ^ flip;
        }
        return Math.min((w << 6) + Long.numberOfTrailingZeros(bits), to);
    }

    /** The bits of word {@code w} that fall inside {@code [from, to)}. */
    private static long mask(long from, long to, long w) {
        long first = Math.max(from, w << 6);
        long end = Math.min(to, (w << 6) + 64);
        long count = end - first;
        return count == 64 ? -1L : ((1L << count) - 1) << first;
    }
}
