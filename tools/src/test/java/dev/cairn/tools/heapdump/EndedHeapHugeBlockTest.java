package dev.cairn.tools.heapdump;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A huge block outlives the heap that allocated it (its thread released the heap, or ended and was reaped): no heap
 * owns its segment then. The dump must say so (heap 0, as for the abandoned pool), agree with {@code visitBlocks},
 * and {@code validate} must pass on the exact dump of a heap {@code Allocator.validate()} accepts. Found by dumping
 * after a thread that allocated a huge block released its heap: validate reported "owned by heap 2, which is not in
 * the dump" and exited 1.
 */
class EndedHeapHugeBlockTest {

    @TempDir
    Path dir;

    @Test
    void hugeBlocksOfEndedHeapsBelongToNoHeap() throws Exception {
        Path path = dir.resolve("ended.cdump");
        Map<Long, Integer> visited = new HashMap<>();
        long released;
        long reaped;
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(10);
            long[] blocks = new long[2];
            Thread releasing = new Thread(() -> {
                blocks[0] = allocator.malloc(5 << 20);
                allocator.malloc(100);
                allocator.releaseCurrentThread();
            });
            releasing.start();
            releasing.join();
            Thread ending = new Thread(() -> blocks[1] = allocator.malloc(6 << 20));
            ending.start();
            ending.join();
            allocator.collect(false); // reaps the ended thread's heap
            allocator.validate();
            released = blocks[0];
            reaped = blocks[1];
            allocator.visitBlocks((address, usable, bin, heap) -> {
                visited.put(address, heap);
                return true;
            });
            allocator.dumpHeap(path);
        }
        assertEquals(0, visited.get(released), "visitBlocks: no heap owns a released heap's huge block");
        assertEquals(0, visited.get(reaped), "visitBlocks: no heap owns a reaped heap's huge block");
        try (HeapDump dump = HeapDump.open(path)) {
            assertFalse(dump.header().bestEffort());
            Set<Integer> heaps = dump.heaps().stream().map(HeapInfo::id).collect(Collectors.toSet());
            for (PageInfo page : dump.pages()) {
                SegmentInfo segment = dump.segmentOf(page);
                if (page.huge() && (page.start() == released || page.start() == reaped)) {
                    assertEquals(0, segment.heapId(), "segment 0x" + Long.toHexString(segment.base()));
                    assertEquals(0, segment.ownerTid());
                    assertFalse(segment.abandoned(), "huge segments never enter the abandoned pool");
                } else if (!segment.abandoned()) {
                    assertTrue(heaps.contains(segment.heapId()));
                }
                assertEquals(visited.get(page.start()), segment.heapId());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = dev.cairn.tools.inspect.InspectCli.run(new String[] {path.toString(), "validate"},
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        assertEquals(0, code, out.toString(StandardCharsets.UTF_8));
    }
}
