package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A heap dump of a segment whose first page is retired: in medium and large segments that page starts right after
 * the metadata, at an offset that is not a multiple of the OS page, and the dumper asked the segment layer whether
 * that range was committed, which refused it with an {@link IllegalArgumentException}: {@code dumpHeap} failed.
 * Found by the test-stress port (dumps taken while threads churn large blocks).
 */
class DumpRetiredFirstPageTest {

    @Test
    void dumpWithARetiredFirstPageOfALargeSegment(@TempDir Path dir) throws java.io.IOException {
        try (Allocator allocator = Allocator.create()) {
            long first = allocator.malloc(300 << 10); // page 0 of a large segment
            long other = allocator.malloc(200 << 10); // another size class: page 1 of the same segment
            allocator.free(first);
            allocator.collect(true); // retires page 0 (and purges it); page 1 keeps the segment
            Path dump = dir.resolve("heap.cdump");
            allocator.dumpHeap(dump);
            assertTrue(Files.size(dump) > 0);
            allocator.free(other);
            allocator.validate();
        }
    }
}
