package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.tools.heapdump.DumpFormat;
import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.HeapInfo;
import dev.cairn.tools.heapdump.PageInfo;
import dev.cairn.tools.heapdump.DumpBytes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dumps of an allocator with the page pool ({@code AllocatorConfig.pagePool}), where a page's owner may differ from
 * its segment's: an idle thread filled pages and gave most of them to the pool, and a worker freed into them and
 * adopted some. The dump (format 1.2) records each page's own heap: pages in the pool, pages lent to the worker, and
 * blocks are attributed as {@code visitBlocks} attributes them; {@code validate} finds nothing, and {@code threads}
 * counts the worker's bytes in the pages it adopted.
 */
class PagePoolDumpTest {

    @TempDir
    Path dir;

    @Test
    void pagesRecordTheirOwnHeap() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().pagePool(true).build())) {
            int count = 8 * 1024;
            long[] blocks = new long[count];
            CountDownLatch filled = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread filler = Thread.ofPlatform().daemon().name("filler").start(() -> {
                try {
                    for (int i = 0; i < count; i++) {
                        blocks[i] = allocator.malloc(256);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                } finally {
                    filled.countDown();
                }
                try {
                    done.await(); // idle with its heap: its pages stay given to the pool
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(filled.await(60, TimeUnit.SECONDS), "the filler finished");
            assertNull(failure.get(), () -> "the filler failed: " + failure.get());
            Thread.sleep(20); // idle past the pool's 1 ms: its pages are others' to adopt
            long[] kept = new long[count / 2];
            CountDownLatch worked = new CountDownLatch(1);
            CountDownLatch dumped = new CountDownLatch(1);
            Thread worker = Thread.ofPlatform().daemon().name("worker").start(() -> {
                try {
                    for (int i = 0; i < count / 2; i++) { // frees into the filler's pages, then refills them
                        allocator.free(blocks[i]);
                    }
                    for (int i = 0; i < count / 2; i++) {
                        kept[i] = allocator.malloc(256);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                } finally {
                    worked.countDown();
                }
                try {
                    dumped.await(); // alive with its heap while the dump is written
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(worked.await(60, TimeUnit.SECONDS), "the worker finished");
            assertNull(failure.get(), () -> "the worker failed: " + failure.get());
            Map<Long, Integer> heapOfBlock = new HashMap<>();
            allocator.visitBlocks((address, usable, bin, heap) -> {
                heapOfBlock.put(address, heap);
                return true;
            });
            Path path = dir.resolve("pool.cdump");
            allocator.dumpHeap(path);
            dumped.countDown();
            done.countDown();
            worker.join();
            filler.join();

            try (HeapDump dump = HeapDump.open(path)) {
                assertEquals(2, dump.header().minor(), "format 1.2 records page owners");
                int workerHeap = -1;
                int fillerHeap = -1;
                for (HeapInfo heap : dump.heaps()) {
                    if (heap.threadName().equals("worker")) {
                        workerHeap = heap.id();
                    } else if (heap.threadName().equals("filler")) {
                        fillerHeap = heap.id();
                    }
                }
                assertNotEquals(-1, workerHeap);
                assertNotEquals(-1, fillerHeap);
                int lent = 0;
                int pooled = 0;
                Map<Long, Integer> found = new HashMap<>();
                for (PageInfo page : dump.pages()) {
                    int segmentHeap = dump.segmentOf(page).heapId();
                    switch (page.owner()) {
                        case DumpFormat.OWNER_LENT -> {
                            lent++;
                            assertEquals(fillerHeap, segmentHeap, "a lent page lies in the filler's segment");
                            assertEquals(workerHeap, page.ownerHeap(), "and the worker owns it");
                        }
                        case DumpFormat.OWNER_POOLED -> {
                            pooled++;
                            assertEquals(0, page.ownerHeap());
                        }
                        default -> assertEquals(segmentHeap, page.ownerHeap());
                    }
                    for (int i = 0; i < page.capacity(); i++) {
                        if (dump.isLive(page, i)) {
                            found.put(page.start() + i * page.blockSize(), page.ownerHeap());
                        }
                    }
                }
                assertTrue(lent > 0, "the worker adopted pages of the filler's segment");
                assertTrue(pooled > 0, "the filler's untouched full pages are still pooled");
                assertEquals(heapOfBlock, found, "each live block's heap, as visitBlocks reports it");

                Cli validate = Cli.run(path.toString(), "validate", "--json");
                assertEquals(0, validate.code(), validate.toString());
                assertTrue(validate.out().contains("\"violationCount\":0"), validate.out());
                Cli summary = Cli.run(path.toString(), "summary", "--json");
                assertTrue(summary.out().contains("\"pooledPages\":" + pooled), summary.out());
                assertTrue(summary.out().contains("\"lentPages\":" + lent), summary.out());
                Cli threads = Cli.run(path.toString(), "threads", "--json");
                assertEquals(0, threads.code(), threads.toString());
                assertTrue(threads.out().contains("\"pooledPages\":" + pooled), threads.out());
                Totals totals = new Totals(dump); // what threads prints per heap
                for (int heap : new int[] {workerHeap, fillerHeap}) {
                    long blocksOfHeap = heapOfBlock.values().stream().filter(h -> h == heap).count();
                    assertEquals(blocksOfHeap, totals.heapLiveBlocks[totals.heapIndex.get(heap)], "heap " + heap);
                }
                long withoutHeap = heapOfBlock.values().stream().filter(h -> h == 0).count() * 256;
                assertEquals(withoutHeap, totals.liveBytesWithoutHeap, "bytes in pooled pages");
            }

            // The same dump as 1.1 wrote it: read, every page under its segment's heap.
            Path old = dir.resolve("pool-1.1.cdump");
            Files.write(old, DumpBytes.withoutPageOwners(Files.readAllBytes(path)));
            try (HeapDump dump = HeapDump.open(old)) {
                assertEquals(1, dump.header().minor());
                for (PageInfo page : dump.pages()) {
                    assertEquals(DumpFormat.OWNER_SEGMENT, page.owner());
                    assertEquals(dump.segmentOf(page).heapId(), page.ownerHeap());
                }
            }
            Cli oldValidate = Cli.run(old.toString(), "validate", "--json");
            assertTrue(oldValidate.out().contains("\"violationCount\":0"), oldValidate.out());

            // An owner byte past 2, a page lent to heap 0, a pooled page with a heap: refused with the page named.
            // A page lent to its own segment's heap (a best-effort dump's race, or damage): read; validate reports it.
            byte[] bytes = Files.readAllBytes(path);
            int first = DumpBytes.sectionBody(bytes, 3) + 8; // PAGES: count, fixed size, then the first record
            int segmentHeap = segmentHeapOfFirstPage(path);
            int[][] refused = {{segmentHeap, 3}, {0, DumpFormat.OWNER_LENT}, {segmentHeap, DumpFormat.OWNER_POOLED}};
            for (int[] owner : refused) {
                Path broken = withFirstPageOwner(bytes, first, owner[0], owner[1], "bad-" + owner[0] + "-" + owner[1]);
                Cli cli = Cli.run(broken.toString(), "summary");
                assertNotEquals(0, cli.code(), cli.toString());
                assertTrue(cli.err().contains("owner kind " + owner[1]), cli.err());
            }
            Path odd = withFirstPageOwner(bytes, first, segmentHeap, DumpFormat.OWNER_LENT, "lent-home");
            Cli validateOdd = Cli.run(odd.toString(), "validate", "--json");
            assertTrue(validateOdd.out().contains("which owns its segment"), validateOdd.out());
        }
    }

    /** The dump with its first page record's owner fields replaced (checksums fixed), written to a new file. */
    private Path withFirstPageOwner(byte[] bytes, int first, int heap, int owner, String name) throws Exception {
        byte[] changed = bytes.clone();
        ByteBuffer buffer = ByteBuffer.wrap(changed).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(first + 64, heap);
        buffer.put(first + 68, (byte) owner);
        DumpBytes.fixChecksums(changed);
        Path path = dir.resolve(name + ".cdump");
        Files.write(path, changed);
        return path;
    }

    private static int segmentHeapOfFirstPage(Path path) throws Exception {
        try (HeapDump dump = HeapDump.open(path)) {
            return dump.segmentOf(dump.pages().getFirst()).heapId();
        }
    }
}
