package dev.cairn.segments;

import static dev.cairn.segments.TestSpaces.SEGMENT;
import static dev.cairn.segments.TestSpaces.UNIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.segments.Segment.Backing;
import dev.cairn.segments.SegmentConfig.Backend;
import dev.cairn.segments.SegmentConfig.HugePages;
import dev.cairn.segments.internal.Platform;
import dev.cairn.segments.raw.Raw;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Huge-page requests get huge pages where the machine has them, and otherwise fall back to normal pages, say so in
 * {@link Segment#backing()} and count the fallback. The expectations follow what this machine offers.
 */
class HugePagesTest {

    private static SegmentSpace space(Backend backend, HugePages hugePages) {
        return SegmentSpace.create(TestSpaces.config(backend).hugePages(hugePages).build());
    }

    /** THP mode from sysfs: the bracketed word, or "none". */
    private static String thpMode() {
        try {
            String s = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
            return s.substring(s.indexOf('[') + 1, s.indexOf(']'));
        } catch (IOException | RuntimeException e) {
            return "none";
        }
    }

    /** Free explicit huge pages times their size, from /proc/meminfo. */
    private static long freeHugetlbBytes() {
        try {
            long free = 0;
            long size = 0;
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                String[] f = line.split("\\s+");
                if (f[0].equals("HugePages_Free:")) {
                    free = Long.parseLong(f[1]);
                } else if (f[0].equals("Hugepagesize:")) {
                    size = Long.parseLong(f[1]) * 1024;
                }
            }
            return free * size;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    @Test
    void transparentHugePagesAreAdvisedWhereTheKernelUsesThem() {
        assumeTrue(Platform.mmapSupported());
        try (SegmentSpace space = space(Backend.MMAP, HugePages.TRANSPARENT)) {
            Segment s = space.reserve();
            boolean usable = thpMode().equals("always") || thpMode().equals("madvise");
            if (usable) {
                assertEquals(Backing.TRANSPARENT_HUGE, s.backing());
                assertEquals(0, space.stats().hugePageFallbacks());
                assertTrue(ProcMaps.find(s.base()).orElseThrow().vmFlags().contains("hg"), "VMA lacks MADV_HUGEPAGE");
            } else {
                assertEquals(Backing.NORMAL, s.backing());
                assertEquals(1, space.stats().hugePageFallbacks());
            }
            space.commit(s, 0, SEGMENT); // THP memory is ordinary memory otherwise: commit, purge, decommit act
            Raw.putLong(s.base(), 5);
            space.purge(s, 0, UNIT);
            assertEquals(UNIT, space.stats().purgedBytes());
            space.decommit(s, 0, SEGMENT);
            assertEquals(0, space.stats().committedBytes());
            assertEquals(0, space.stats().noOpRequests());
        }
    }

    @Test
    void explicitHugePagesArePinnedWhenObtainedAndFallBackCleanlyOtherwise() {
        assumeTrue(Platform.mmapSupported());
        long pool = freeHugetlbBytes(); // before reserving, which would take from it
        try (SegmentSpace space = space(Backend.MMAP, HugePages.EXPLICIT)) {
            Segment s = space.reserve();
            assertEquals(0, s.base() % SEGMENT);
            if (pool == 0) {
                assertEquals(Backing.NORMAL, s.backing(), "no huge pages reserved here: must fall back");
            }
            if (s.backing() == Backing.EXPLICIT_HUGE) {
                checkPinned(space, s);
            } else {
                checkFellBack(space, s);
            }
        }
    }

    /** What a machine with a hugetlb pool gives: pinned memory, committed whole, purge and decommit no-ops. */
    private static void checkPinned(SegmentSpace space, Segment s) {
        assertEquals(SEGMENT, space.stats().committedBytes());
        assertEquals(0, space.stats().hugePageFallbacks());
        Raw.putLong(s.base(), 8);
        space.purge(s, 0, SEGMENT);
        space.decommit(s, 0, SEGMENT);
        assertEquals(8, Raw.getLong(s.base()), "pinned memory is neither purged nor decommitted");
        assertEquals(2, space.stats().noOpRequests());
        assertEquals(0, space.stats().purgedBytes());
        assertEquals(SEGMENT, space.stats().committedBytes());
    }

    /** What a machine without a pool (like the CI one, 0 reserved pages) gives: a normal, lazily committed segment. */
    private static void checkFellBack(SegmentSpace space, Segment s) {
        assertEquals(Backing.NORMAL, s.backing());
        SegmentStats stats = space.stats();
        assertEquals(1, stats.hugePageFallbacks());
        assertEquals(1, stats.failedCalls(), "the refused MAP_HUGETLB");
        assertEquals(SEGMENT, stats.reservedBytes());
        assertEquals(0, stats.committedBytes(), "fallback memory is lazily committed like any normal segment");
        assertEquals("---p", ProcMaps.perms(s.base()));
        space.commit(s, 0, UNIT);
        Raw.putLong(s.base(), 6);
        assertEquals(6, Raw.getLong(s.base()));
        space.purge(s, 0, UNIT);
        assertEquals(UNIT, space.stats().purgedBytes(), "fallback memory purges like normal memory");
        Segment huge = space.reserveHuge(2 * SEGMENT);
        assertEquals(Backing.NORMAL, huge.backing());
        assertEquals(2, space.stats().hugePageFallbacks());
    }

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    void offNeverCountsAFallback(Backend backend) {
        try (SegmentSpace space = space(backend, HugePages.OFF)) {
            space.reserve();
            assertEquals(0, space.stats().hugePageFallbacks());
        }
    }

    @Test
    void theArenaBackendCountsEveryHugePageRequestAsAFallback() {
        for (HugePages request : new HugePages[] {HugePages.TRANSPARENT, HugePages.EXPLICIT}) {
            try (SegmentSpace space = space(Backend.ARENA, request)) {
                assertEquals(Backing.ARENA, space.reserve().backing());
                assertEquals(Backing.ARENA, space.reserveHuge(2 * SEGMENT).backing());
                assertEquals(2, space.stats().hugePageFallbacks());
            }
        }
    }
}
