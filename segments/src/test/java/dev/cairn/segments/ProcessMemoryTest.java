package dev.cairn.segments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.segments.internal.Platform;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class ProcessMemoryTest {

    @Test
    void rssIsPositiveOnLinux() {
        long rss = ProcessMemory.rssBytes();
        if (Platform.isLinux()) {
            assertTrue(rss > 0, "rss " + rss);
        } else {
            assertEquals(-1, rss);
        }
    }

    @Test
    void residentBytesCountsTouchedPages() {
        assumeTrue(Platform.mmapSupported());
        long page = Platform.pageSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(64 * page, page); // zeroed by the JDK, so every page is touched
            assertEquals(64 * page, ProcessMemory.residentBytes(m.address(), m.byteSize()));
            assertEquals(page, ProcessMemory.residentBytes(m.address() + 1, 1), "whole pages count");
            assertEquals(0, ProcessMemory.residentBytes(m.address(), 0));
        }
    }

    @Test
    void unmappedAndBadRangesAreIllegalArguments() {
        assumeTrue(Platform.mmapSupported());
        // the first page is never mapped (vm.mmap_min_addr), so mincore reports ENOMEM
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProcessMemory.residentBytes(0, Platform.pageSize()));
        assertTrue(e.getMessage().contains("not entirely mapped"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ProcessMemory.residentBytes(4096, -1));
        assertThrows(IllegalArgumentException.class, () -> ProcessMemory.residentBytes(-4096, 4096));
        // a range in the last page of the long range: rounding its end up to a page overflowed, and 0 came back
        for (long length : new long[] {1, 10, Platform.pageSize()}) {
            e = assertThrows(IllegalArgumentException.class,
                    () -> ProcessMemory.residentBytes(Long.MAX_VALUE - length, length), "length " + length);
            assertTrue(e.getMessage().contains("not entirely mapped"), e.getMessage());
        }
    }

    @Test
    void segmentResidencyFollowsCommitAndPurge() {
        assumeTrue(Platform.mmapSupported());
        try (SegmentSpace space = TestSpaces.space(SegmentConfig.Backend.MMAP)) {
            Segment s = space.reserve();
            space.commit(s, 0, TestSpaces.UNIT);
            dev.cairn.segments.raw.Raw.putLong(s.base(), 1);
            assertEquals(space.pageSize(), ProcessMemory.residentBytes(s));
            space.purge(s, 0, TestSpaces.UNIT);
            assertEquals(0, ProcessMemory.residentBytes(s));
        }
    }
}
