package dev.cairn.tools.heapdump;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ways a dump is taken (API, on close; JMX is tested in the allocator module) and what the allocator puts in
 * it: the best-effort flag, samples kept only while their block lives, dumps racing with a running thread.
 */
class DumpHooksTest {

    @TempDir
    Path dir;

    @Test
    void dumpOnClose() throws Exception {
        long id;
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder()
                .dumpOnClose(dir.resolve("close-{id}.cdump").toString()).build())) {
            allocator.malloc(5000);
            id = allocator.domainId();
        }
        try (HeapDump dump = HeapDump.open(dir.resolve("close-" + id + ".cdump"))) {
            assertEquals(1, dump.pages().stream().mapToLong(PageInfo::liveBlocks).sum());
        }
    }

    @Test
    void aFailedDumpOnCloseStillCloses() {
        Allocator allocator = Allocator.create(AllocatorConfig.builder()
                .dumpOnClose(dir.resolve("missing-dir/x.cdump").toString()).build());
        allocator.malloc(64);
        allocator.close(); // logs the failure
        assertThrows(IllegalStateException.class, () -> allocator.malloc(64), "closed all the same");
    }

    @Test
    void samplesLiveAsLongAsTheirBlocks() throws Exception {
        Path path = dir.resolve("samples.cdump");
        try (Allocator allocator = DumpFixtures.sampledAllocator()) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                blocks.add(allocator.malloc(64));
            }
            for (int i = 0; i < 10; i += 2) {
                allocator.free(blocks.get(i));
            }
            try (Arena arena = allocator.newArena()) {
                arena.allocate(100);
            }
            allocator.dumpHeap(path);
        }
        try (HeapDump dump = HeapDump.open(path)) {
            assertEquals(5, dump.samples().size(), "freed blocks and the closed arena's blocks lost their samples");
            for (Sample sample : dump.samples()) {
                assertEquals(64, sample.size());
                assertEquals(64, dump.liveBlockSize(sample.address()));
                assertTrue(dump.sites().get(sample.site()).frames().getFirst()
                        .contains("DumpHooksTest.samplesLiveAsLongAsTheirBlocks"));
            }
        }
    }

    @Test
    void samplingOffRecordsNothing() throws Exception {
        Path path = dir.resolve("nosampling.cdump");
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(64);
            allocator.dumpHeap(path);
        }
        try (HeapDump dump = HeapDump.open(path)) {
            assertEquals(0, dump.sampleRate());
            assertEquals(0, dump.header().flags() & DumpFormat.FLAG_SAMPLING);
            assertTrue(dump.samples().isEmpty());
        }
    }

    /**
     * A thread allocating, freeing (pages retire and are re-formatted) and being sampled while the test thread
     * dumps again and again: every dump must be readable and say it is best-effort, whatever moment it caught.
     */
    @Test
    void aDumpWhileAnotherThreadAllocatesIsMarkedBestEffortAndReadable() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().sampleRate(4).build())) {
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch started = new CountDownLatch(1);
            Thread churn = new Thread(() -> {
                List<Long> blocks = new ArrayList<>();
                blocks.add(allocator.malloc(16)); // a heap of its own before the first dump: else the flag is clear
                started.countDown();
                for (long i = 0; !stop.get(); i++) {
                    blocks.add(allocator.malloc(16 + (i % 64) * 16 + (i % 1000 == 0 ? 100_000 : 0)));
                    if (blocks.size() > 5000) {
                        for (int k = 0; k < 4000; k++) {
                            allocator.free(blocks.remove(blocks.size() - 1));
                        }
                    }
                }
                blocks.forEach(allocator::free);
            }, "churn");
            churn.start();
            started.await();
            try {
                long end = System.nanoTime() + 2_000_000_000L;
                for (int n = 0; n < 200 && System.nanoTime() < end; n++) {
                    Path path = dir.resolve("race.cdump");
                    allocator.dumpHeap(path);
                    try (HeapDump dump = HeapDump.open(path)) {
                        assertTrue(dump.header().bestEffort(), "a heap of another thread was open");
                    }
                }
            } finally {
                stop.set(true);
                churn.join();
            }
        }
    }

    @Test
    void failures() {
        Allocator allocator = Allocator.create();
        assertThrows(UncheckedIOException.class, () -> allocator.dumpHeap(dir.resolve("no/such/dir/x.cdump")));
        allocator.close();
        assertThrows(IllegalStateException.class, () -> allocator.dumpHeap(dir.resolve("closed.cdump")));
        assertFalse(Files.exists(dir.resolve("closed.cdump")));
    }
}
