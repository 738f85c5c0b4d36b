package dev.cairn.segments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.SegmentConfig.Backend;
import dev.cairn.segments.SegmentConfig.HugePages;
import dev.cairn.segments.SegmentConfig.PurgeMode;
import dev.cairn.segments.internal.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SegmentConfigTest {

    private static final long MiB = 1L << 20;

    @Test
    void defaults() {
        SegmentConfig c = SegmentConfig.defaults();
        assertEquals(32 * MiB, c.segmentSize());
        assertEquals(64 * 1024, c.commitUnit());
        assertEquals(Backend.AUTO, c.backend());
        assertEquals(HugePages.OFF, c.hugePages());
        assertEquals(PurgeMode.DONTNEED, c.purgeMode());
        assertFalse(c.commitOnReserve());
    }

    @Test
    void builderSetsEveryComponentAndRoundTrips() {
        SegmentConfig c = SegmentConfig.builder().segmentSize(256 * MiB).commitUnit(4096).backend(Backend.ARENA)
                .hugePages(HugePages.EXPLICIT).purgeMode(PurgeMode.FREE).commitOnReserve(true).build();
        assertEquals(new SegmentConfig(256 * MiB, 4096, Backend.ARENA, HugePages.EXPLICIT, PurgeMode.FREE, true), c);
        assertEquals(c, c.toBuilder().build());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, -(32L << 20), 2 * MiB, 3 * MiB, 5 * MiB, 48 * MiB, 512 * MiB, Long.MIN_VALUE,
            Long.MAX_VALUE, 1L << 62})
    void rejectsBadSegmentSizes(long size) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SegmentConfig.builder().segmentSize(size).build());
        assertTrue(e.getMessage().contains("segmentSize"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(longs = {4 * MiB, 8 * MiB, 16 * MiB, 32 * MiB, 64 * MiB, 128 * MiB, 256 * MiB})
    void acceptsEveryPowerOfTwoFrom4To256MiB(long size) {
        assertEquals(size, SegmentConfig.builder().segmentSize(size).build().segmentSize());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -4096, 2048, 4095, 6144, 65537, 64 * MiB})
    void rejectsBadCommitUnits(long unit) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SegmentConfig.builder().segmentSize(32 * MiB).commitUnit(unit).build());
        assertTrue(e.getMessage().contains("commitUnit"), e.getMessage());
    }

    @Test
    void commitUnitMayEqualTheSegmentSize() {
        assertEquals(4 * MiB, SegmentConfig.builder().segmentSize(4 * MiB).commitUnit(4 * MiB).build().commitUnit());
    }

    @Test
    void rejectsNulls() {
        assertThrows(NullPointerException.class, () -> SegmentConfig.builder().backend(null).build());
        assertThrows(NullPointerException.class, () -> SegmentConfig.builder().hugePages(null).build());
        assertThrows(NullPointerException.class, () -> SegmentConfig.builder().purgeMode(null).build());
        assertThrows(NullPointerException.class, () -> SegmentSpace.create(null));
    }

    @Test
    void createRefusesCommitUnitsBelowThePageSize() {
        if (Platform.pageSize() == 4096) {
            SegmentSpace.create(SegmentConfig.builder().commitUnit(4096).build()).close(); // the smallest legal unit
        } else {
            assertThrows(IllegalArgumentException.class,
                    () -> SegmentSpace.create(SegmentConfig.builder().commitUnit(4096).build()));
        }
    }

    @Test
    void mmapBackendIsRefusedWhereItCannotRun() {
        if (Platform.mmapSupported()) {
            SegmentSpace.create(SegmentConfig.builder().backend(Backend.MMAP).build()).close();
        } else {
            assertThrows(UnsupportedOperationException.class,
                    () -> SegmentSpace.create(SegmentConfig.builder().backend(Backend.MMAP).build()));
        }
    }

    @Test
    void autoPicksMmapOnLinuxAndArenaElsewhere() {
        try (SegmentSpace space = SegmentSpace.create()) {
            Segment s = space.reserve();
            assertEquals(Platform.mmapSupported() ? Segment.Backing.NORMAL : Segment.Backing.ARENA, s.backing());
        }
    }
}
