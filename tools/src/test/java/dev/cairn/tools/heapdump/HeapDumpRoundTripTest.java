package dev.cairn.tools.heapdump;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorStats;
import dev.cairn.alloc.DumpOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A dump read back agrees with the allocator that wrote it: blocks, stats, sites and contents. */
class HeapDumpRoundTripTest {

    @TempDir
    Path dir;

    @Test
    void liveBlocksStatsAndContentsMatchTheAllocator() throws Exception {
        Path path = dir.resolve("a.cdump");
        Set<Long> expected = new HashSet<>();
        Map<Long, Long> sizes = new HashMap<>();
        AllocatorStats stats;
        long domain;
        try (Allocator allocator = DumpFixtures.sampledAllocator()) {
            List<Long> live = DumpFixtures.populate(allocator);
            allocator.visitBlocks((address, usable, bin, heap) -> {
                expected.add(address);
                sizes.put(address, usable);
                return true;
            });
            assertTrue(expected.containsAll(live));
            stats = allocator.stats();
            domain = allocator.domainId();
            allocator.dumpHeap(path, DumpOptions.withContents());
        }
        try (HeapDump dump = HeapDump.open(path)) {
            DumpHeader h = dump.header();
            assertEquals(1, h.major());
            assertEquals(domain, h.domainId());
            assertTrue(h.hasContents());
            assertTrue(h.checked());
            assertFalse(h.bestEffort(), "only the dumping thread had a heap open");
            assertEquals(32L << 20, h.segmentSize());
            assertTrue(h.cairnVersion().startsWith("cairn "));

            Set<Long> found = new HashSet<>();
            long xthread = 0;
            for (PageInfo page : dump.pages()) {
                xthread += page.xthreadFree();
                for (int i = 0; i < page.capacity(); i++) {
                    if (dump.isLive(page, i)) {
                        found.add(page.start() + i * page.blockSize());
                    }
                }
            }
            assertEquals(expected, found, "live bitmaps = the allocator's visitBlocks");
            assertTrue(xthread > 0, "the remote frees are still on cross-thread lists");
            long[] s = dump.stats();
            assertEquals(stats.allocatedBytes(), s[5]);
            assertEquals(stats.blocksInUse(), s[6]);
            assertEquals(stats.pages(), s[7]);
            assertEquals(stats.liveSegments(), dump.segments().size());

            for (long address : expected) {
                MemorySegment bytes = dump.contents(address);
                assertNotNull(bytes, "contents of 0x" + Long.toHexString(address));
                assertEquals(sizes.get(address), bytes.byteSize());
            }
            assertEquals(1, dump.sampleRate());
            assertFalse(dump.sites().isEmpty());
            long matched = dump.samples().stream().filter(x -> dump.liveBlockSize(x.address()) > 0).count();
            assertEquals(expected.size(), matched, "strict sampling: one live sample per live block");
        }
    }

    @Test
    void contentsHoldWhatWasWritten() throws Exception {
        Path path = dir.resolve("c.cdump");
        long p;
        try (Allocator allocator = Allocator.create()) {
            p = allocator.malloc(200);
            DumpFixtures.fill(p, 200, 7);
            allocator.dumpHeap(path, DumpOptions.withContents());
        }
        try (HeapDump dump = HeapDump.open(path)) {
            MemorySegment bytes = dump.contents(p);
            assertEquals(224, bytes.byteSize()); // the 224-byte size class serves 200
            for (int i = 0; i < 200; i++) {
                assertEquals(DumpFixtures.pattern(7, i), bytes.get(ValueLayout.JAVA_BYTE, i));
            }
        }
    }

    @Test
    void aDumpWithoutContentsHasNone() throws Exception {
        Path path = DumpFixtures.standardDump(dir, "n.cdump", false);
        try (HeapDump dump = HeapDump.open(path)) {
            assertFalse(dump.header().hasContents());
            PageInfo page = dump.pages().getFirst();
            assertNull(dump.contents(page.start()));
        }
    }

    @Test
    void abandonedSegmentsAndPendingDelayedFreesAreInTheDump() throws Exception {
        Path path = dir.resolve("abandoned.cdump");
        Set<Long> pending = new HashSet<>();
        long abandonedSegment;
        try (Allocator allocator = Allocator.create()) {
            long[] blocks = new long[2_000];
            Thread worker = new Thread(() -> {
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = allocator.malloc(48);
                }
            });
            worker.start();
            worker.join();
            allocator.collect(false); // reaps the dead worker: its segment goes to the pool
            assertEquals(1, allocator.stats().abandonedSegments());
            abandonedSegment = blocks[0] & -(32L << 20);

            // A reader that never quiesces keeps delayed frees pending while the dump is taken.
            java.util.concurrent.CountDownLatch online = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            Thread reader = new Thread(() -> {
                var me = allocator.qsbrThread();
                online.countDown();
                try {
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                me.unregister();
            });
            reader.start();
            online.await();
            for (int i = 0; i < 10; i++) {
                allocator.freeDelayed(blocks[i]);
                pending.add(blocks[i]);
            }
            allocator.collect(false);
            assertEquals(10, allocator.stats().delayedFreesPending());
            allocator.validate();
            allocator.dumpHeap(path);
            done.countDown();
            reader.join();
        }
        try (HeapDump dump = HeapDump.open(path)) {
            assertArrayEquals(new long[] {abandonedSegment}, dump.abandonedPool());
            SegmentInfo segment = dump.segments().stream().filter(x -> x.base() == abandonedSegment).findFirst()
                    .orElseThrow();
            assertTrue(segment.abandoned());
            assertEquals(0, segment.ownerTid());
            assertTrue(segment.abandonedNanos() > 0);
            Set<Long> found = new HashSet<>();
            for (long address : dump.delayedFrees()) {
                found.add(address);
            }
            assertEquals(pending, found);
            for (PageInfo page : dump.pages()) {
                assertEquals(0, page.mismatches(), "pending blocks are not bitmap mismatches");
                assertEquals(0, page.listErrors(), "tagged cross-thread lists are read as lists");
            }
        }
    }
}
