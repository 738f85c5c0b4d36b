package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.ProcessMemory;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@code close()} gives back, and when: the memory at once (the segments are retired, their addresses kept for
 * calls that may still be running on other threads, see {@code CloseGuard}), the addresses once the allocator is
 * unreachable. Before the thread-local fix a closed allocator stayed reachable from every thread that had used it
 * (its heap, in the thread's map, led back to the map's key), so its retired addresses would never have gone.
 */
class CloseReleaseTest {

    private static final long SEGMENT = 4L << 20;

    @Test
    void closeGivesTheMemoryBackAtOnceAndTheAddressesOnceTheAllocatorIsGone() throws Exception {
        Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(SEGMENT).build());
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 4096; i++) { // 4 MiB of 1 KiB blocks, written: more than a segment
            blocks.add(allocator.allocate(1024).fill((byte) 1).address());
        }
        long huge = allocator.allocate(3 * SEGMENT).fill((byte) 1).address();
        allocator.freeDelayed(blocks.get(0)); // a batch and a QSBR handle for this thread, as a delayed free leaves
        long first = blocks.get(1);
        long firstSegment = first & -SEGMENT;
        assertTrue(ProcessMemory.residentBytes(firstSegment, SEGMENT) >= SEGMENT / 2, "written, so resident");

        allocator.close();
        assertEquals(0, ProcessMemory.residentBytes(firstSegment, SEGMENT), "close gives the memory back at once");
        assertEquals(0, ProcessMemory.residentBytes(huge, 3 * SEGMENT), "close gives the memory back at once");
        assertTrue(mapped(first) && mapped(huge), "the addresses stay mapped while the allocator may be in use");

        WeakReference<Allocator> gone = new WeakReference<>(allocator);
        allocator = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while ((gone.get() != null || mapped(first) || mapped(huge)) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertNull(gone.get(), "a closed allocator that nobody references is collected");
        assertTrue(!mapped(first) && !mapped(huge), "its addresses are unmapped once it is collected");
    }

    /** Whether some mapping of this process covers {@code address} ({@code /proc/self/maps}). */
    private static boolean mapped(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
            long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0) {
                return true;
            }
        }
        return false;
    }
}
