package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorStats;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The summary accounts for all the memory {@code stats().committedBytes} counts: segments kept in the allocator's
 * cache for reuse are committed but in no segment of the dump, so after a huge block was freed the summary's
 * committed figure fell short of the allocator's by the whole cached segment, with no line saying where it went.
 * Found comparing {@code summary} with {@code stats()} taken at the same moment.
 */
class SegmentCacheSummaryTest {

    @TempDir
    Path dir;

    @Test
    void cachedSegmentsAreInTheSummary() throws Exception {
        Path path = dir.resolve("cache.cdump");
        AllocatorStats stats;
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(100);
            allocator.free(allocator.malloc(20 << 20)); // its segment goes to the cache
            stats = allocator.stats();
            assertEquals(1, stats.cachedSegments());
            allocator.dumpHeap(path);
        }
        Cli cli = Cli.run(path.toString(), "--json");
        assertEquals(0, cli.code(), cli.toString());
        long committed = JsonCheck.firstLong(cli.out(), "committed");
        long cache = JsonCheck.firstLong(cli.out(), "segmentCache");
        assertEquals(1, JsonCheck.firstLong(cli.out(), "cachedSegments"));
        assertTrue(cache > 0, cli.out());
        assertEquals(stats.committedBytes(), committed + cache, cli.out());
        assertTrue(Cli.run(path.toString()).out().contains("segmentCache:"));
    }
}
