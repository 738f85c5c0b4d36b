package dev.cairn.segments.demo;

import dev.cairn.segments.ProcessMemory;
import dev.cairn.segments.Segment;
import dev.cairn.segments.SegmentSpace;
import dev.cairn.segments.SegmentStats;
import dev.cairn.segments.internal.SegmentSpaceImpl;
import dev.cairn.segments.internal.Sizes;
import dev.cairn.segments.raw.Raw;
import java.io.PrintStream;

/**
 * Walks one segment through its life and shows that memory really comes and goes: reserve, commit 16 MiB, write
 * and verify a pattern, purge (resident bytes drop), decommit, release, and the counters at the end.
 *
 * <pre>java --enable-native-access=dev.cairn.segments -p segments/target/classes \
 *     -m dev.cairn.segments/dev.cairn.segments.demo.SegmentsDemo</pre>
 */
public final class SegmentsDemo {

    private static final long COMMIT_SIZE = 16L << 20;
    /** Each long holds its own offset mixed with this, so a misplaced or stale word cannot pass the check. */
    private static final long PATTERN = 0x9E37_79B9_7F4A_7C15L;

    private SegmentsDemo() {
    }

    public static void main(String[] args) {
        run(System.out);
    }

    /** Runs the demo, writing one line per step to {@code out}; returns the final counters. */
    public static SegmentStats run(PrintStream out) {
        try (SegmentSpace space = SegmentSpace.create()) {
            Segment segment = space.reserve();
            out.printf("reserved    %s segment at %s (aligned to %s, backing %s)%n", Sizes.human(segment.size()),
                    Sizes.hex(segment.base()), Sizes.human(space.segmentSize()), segment.backing());

            space.commit(segment, 0, COMMIT_SIZE);
            out.printf("committed   %s at offset 0 (%s committed in the space)%n", Sizes.human(COMMIT_SIZE),
                    Sizes.human(space.stats().committedBytes()));

            writePattern(segment.base(), COMMIT_SIZE);
            long bad = verifyPattern(segment.base(), COMMIT_SIZE);
            if (bad >= 0) {
                throw new IllegalStateException("pattern mismatch at offset " + bad);
            }
            out.printf("wrote       %s pattern through Raw, read it back: verified%n", Sizes.human(COMMIT_SIZE));
            long residentBefore = ProcessMemory.residentBytes(segment.base(), COMMIT_SIZE);
            out.printf("resident    %s of the committed range (mincore), process RSS %s%n",
                    human(residentBefore), human(ProcessMemory.rssBytes()));

            space.purge(segment, 0, COMMIT_SIZE);
            out.printf("purged      %s (%s; still mapped and readable, %s committed in the space)%n",
                    Sizes.human(COMMIT_SIZE), purgeDescription(space), human(space.stats().committedBytes()));
            long residentAfter = ProcessMemory.residentBytes(segment.base(), COMMIT_SIZE);
            out.printf("resident    %s of the committed range (mincore%s), process RSS %s%n", human(residentAfter),
                    dropNote(residentBefore, residentAfter), human(ProcessMemory.rssBytes()));

            space.decommit(segment, 0, COMMIT_SIZE);
            out.printf("decommitted %s (committed: %s, %s committed in the space)%n", Sizes.human(COMMIT_SIZE),
                    space.isCommitted(segment, 0, COMMIT_SIZE), Sizes.human(space.stats().committedBytes()));
            space.release(segment);
            out.printf("released    segment at %s (%d live segments)%n", Sizes.hex(segment.base()),
                    space.stats().liveSegments());
            SegmentStats stats = space.stats();
            out.printf("stats       %s%n", stats.toJson());
            return stats;
        }
    }

    private static void writePattern(long base, long length) {
        for (long off = 0; off < length; off += Long.BYTES) {
            Raw.putLong(base + off, off ^ PATTERN);
        }
    }

    /** The first offset whose word is wrong, or -1. */
    private static long verifyPattern(long base, long length) {
        for (long off = 0; off < length; off += Long.BYTES) {
            if (Raw.getLong(base + off) != (off ^ PATTERN)) {
                return off;
            }
        }
        return -1;
    }

    private static String purgeDescription(SegmentSpace space) {
        return space instanceof SegmentSpaceImpl impl ? impl.purgeDescription() : space.config().purgeMode().name();
    }

    private static String dropNote(long before, long after) {
        if (before < 0 || after < 0) {
            return "";
        }
        return after < before ? ", down " + Sizes.human(before - after) : ", unchanged";
    }

    private static String human(long bytes) {
        return bytes < 0 ? "n/a" : Sizes.human(bytes);
    }
}
