package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.tools.heapdump.DumpBytes;
import dev.cairn.tools.heapdump.DumpFixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command, in text and JSON, on real dumps; validate on a corrupted one; diff between two. */
class InspectCliTest {

    @TempDir
    static Path dir;
    static Path dump;

    @BeforeAll
    static void writeDump() throws Exception {
        dump = DumpFixtures.standardDump(dir, "std.cdump", true);
    }

    @Test
    void everyCommandRunsInTextAndJson() {
        String[][] commands = {{"summary"}, {"bins"}, {"segments"}, {"threads"}, {"validate"}, {"sites"},
            {"objects"}, {"blocks", "--bin", "1", "--live"}, {"diff", dump.toString()}};
        for (String[] command : commands) {
            for (boolean json : new boolean[] {false, true}) {
                List<String> args = new ArrayList<>(List.of(dump.toString()));
                args.addAll(List.of(command));
                if (json) {
                    args.add("--json");
                }
                Cli cli = Cli.run(args.toArray(String[]::new));
                assertEquals(0, cli.code(), cli.toString());
                assertEquals("", cli.err());
                if (json) {
                    assertTrue(JsonCheck.isObject(cli.out()), "not one JSON object: " + cli.out());
                }
            }
        }
    }

    @Test
    void summaryShowsTotalsThatMatchTheBins() {
        Cli cli = Cli.run(dump.toString(), "--json");
        assertTrue(cli.out().contains("\"consistency\":\"exact\""), cli.out());
        assertTrue(cli.out().contains("\"blocksInUse\":2338"), cli.out()); // 3000 - 429 local - 234 remote + 1 huge
        Cli bins = Cli.run(dump.toString(), "bins");
        assertTrue(bins.out().contains("20480"), bins.out());
        assertTrue(bins.out().contains("huge"), bins.out());
    }

    @Test
    void segmentsAndThreadsAddUpToTheSummary() {
        String summary = Cli.run(dump.toString(), "--json").out();
        long bytes = JsonCheck.firstLong(summary, "bytesInUse");
        String threads = Cli.run(dump.toString(), "threads", "--json").out();
        // One heap allocated everything; the page pool (on by default) holds the full pages it gave away.
        long heapBytes = JsonCheck.firstLong(threads, "bytesInUse");
        long withoutHeap = JsonCheck.firstLong(threads.substring(threads.indexOf("\"withoutHeap\"")), "bytesInUse");
        assertEquals(bytes, heapBytes + withoutHeap, "the heap and the pool hold everything: " + threads);
        assertTrue(threads.contains("\"threadId\":" + Thread.currentThread().threadId()), threads);
        String segments = Cli.run(dump.toString(), "segments").out();
        assertEquals(3, segments.lines().filter(l -> l.contains("0x") && l.contains("MiB")).count(), segments);
        assertTrue(segments.contains("huge") && segments.contains("medium") && segments.contains("small"));
    }

    @Test
    void blocksListsFreeBlocksUnlessLive() {
        String all = Cli.run(dump.toString(), "blocks", "--bin", "2", "--limit", "100000", "--json").out();
        String live = Cli.run(dump.toString(), "blocks", "--bin", "2", "--live", "--limit", "100000", "--json").out();
        assertTrue(all.contains("\"state\":\"free\""), "bin 2 has free blocks");
        assertFalse(live.contains("\"state\":\"free\""));
        assertEquals(468, JsonCheck.firstLong(live, "matching"), "the 48-byte blocks still allocated");
        assertTrue(JsonCheck.firstLong(all, "matching") > 468);
    }

    @Test
    void sitesRankByBytesAndAreExactUnderStrictSampling() {
        Cli cli = Cli.run(dump.toString(), "sites", "--json");
        assertTrue(cli.out().contains("\"estimated\":false"), cli.out());
        String first = cli.out().substring(cli.out().indexOf("\"sites\":["));
        assertTrue(first.indexOf("allocateSmall") < first.indexOf("allocateHuge"), "small blocks hold more bytes");
    }

    @Test
    void sampledSitesAreEstimates() throws Exception {
        Path path = dir.resolve("rate.cdump");
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().sampleRate(10).build())) {
            for (int i = 0; i < 20_000; i++) {
                allocator.malloc(64);
            }
            allocator.dumpHeap(path);
        }
        Cli cli = Cli.run(path.toString(), "sites");
        assertEquals(0, cli.code(), cli.toString());
        assertTrue(cli.out().contains("estimated:    true"), cli.out());
        assertTrue(cli.out().contains("~"), cli.out());
        String json = Cli.run(path.toString(), "sites", "--json").out();
        long estimate = JsonCheck.firstLong(json, "estimatedBlocks");
        assertTrue(estimate > 14_000 && estimate < 26_000, "1 in 10 of 20,000 scaled back: " + estimate);
    }

    @Test
    void validatePrintsEachViolationWithItsAddress() throws Exception {
        byte[] bytes = Files.readAllBytes(dump);
        int pages = DumpBytes.sectionBody(bytes, 3);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int firstPage = pages + 8;
        long start = b.getLong(firstPage + 8);
        b.putInt(firstPage + 40, b.getInt(firstPage + 40) + 5); // used: no longer used + free + local == capacity
        DumpBytes.fixChecksums(bytes);
        Path bad = dir.resolve("bad-used.cdump");
        Files.write(bad, bytes);
        Cli cli = Cli.run(bad.toString(), "validate");
        assertEquals(1, cli.code(), cli.toString());
        assertTrue(cli.out().contains("0x" + Long.toHexString(start)), cli.out());
        assertTrue(cli.out().contains("!= capacity"), cli.out());
        assertTrue(cli.out().contains("live bitmap has"), cli.out());
        assertEquals(0, Cli.run(dump.toString(), "validate").code());
    }

    @Test
    void diffShowsGrowthPerBinSegmentAndSite() throws Exception {
        Path before = dir.resolve("before.cdump");
        Path after = dir.resolve("after.cdump");
        try (Allocator allocator = DumpFixtures.sampledAllocator()) {
            for (int i = 0; i < 100; i++) {
                allocator.malloc(64);
            }
            allocator.dumpHeap(before);
            for (int i = 0; i < 1000; i++) {
                leak(allocator);
            }
            allocator.dumpHeap(after);
        }
        Cli cli = Cli.run("diff", before.toString(), after.toString(), "--json");
        assertEquals(0, cli.code(), cli.toString());
        assertTrue(cli.out().contains("\"blocksInUseGrowth\":1000"), cli.out());
        assertTrue(cli.out().contains("\"blockSize\":\"512\",\"blocksBefore\":0,\"blocksAfter\":1000"), cli.out());
        String sites = cli.out().substring(cli.out().indexOf("\"sites\":["));
        assertTrue(sites.contains("InspectCliTest.leak"), sites);
        assertEquals(512_000, JsonCheck.firstLong(sites, "estimatedGrowth"));
    }

    @Test
    void htmlOfASegmentClaimingBillionsOfPagesDrawsOnlyItsPages() throws Exception {
        byte[] bytes = Files.readAllBytes(dump);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int record = DumpBytes.sectionBody(bytes, 2) + 8;
        while (b.get(record + 16) != 0) { // to the small segment; records are 72 bytes plus their ranges
            record += 72 + 16 * (b.getInt(record + 60) + b.getInt(record + 64) + b.getInt(record + 68));
        }
        b.putLong(record + 8, 1L << 46); // 2^30 pages of 64 KiB: a corrupt but self-consistent record
        b.putInt(record + 24, 1 << 30);
        DumpBytes.fixChecksums(bytes);
        Path huge = dir.resolve("billions.cdump");
        Files.write(huge, bytes);
        Path html = dir.resolve("billions.html");
        Cli cli = Cli.run(huge.toString(), "html", "-o", html.toString());
        assertEquals(0, cli.code(), cli.toString());
        assertTrue(Files.size(html) < 1 << 20, "only the dump's pages are drawn: " + Files.size(html));
        assertEquals(1, Cli.run(huge.toString(), "validate").code(), "validate names the impossible size");
    }

    private static void leak(Allocator allocator) {
        allocator.malloc(500);
    }

    @Test
    void blocksShowsContentsAsHex() {
        Cli cli = Cli.run(dump.toString(), "blocks", "--bin", "-1", "--contents");
        assertEquals(0, cli.code(), cli.toString());
        // The huge block was filled with seed 99: bytes 99 * 31 + i * 7.
        String hex = String.format("%02x %02x", DumpFixtures.pattern(99, 0) & 0xFF, DumpFixtures.pattern(99, 1) & 0xFF);
        assertTrue(cli.out().contains(hex), cli.out());
    }

    @Test
    void blocksOfASizeClassTheDumpDoesNotHaveIsAnError() {
        Cli cli = Cli.run(dump.toString(), "blocks", "--bin", "56");
        assertEquals(2, cli.code(), cli.toString());
        assertEquals("", cli.out());
        assertEquals("cairn-inspect: --bin 56: " + dump + " has size classes 0..55 (and -1 for huge blocks)\n",
                cli.err());
        assertEquals(2, Cli.run(dump.toString(), "blocks", "--bin", "1000", "--json").code());
        assertEquals(0, Cli.run(dump.toString(), "blocks", "--bin", "55").code(), "the last size class exists");
        assertEquals(0, Cli.run(dump.toString(), "summary", "--bin", "1000").code(), "--bin matters to blocks only");
    }

    @Test
    void htmlThatCannotBeWrittenNamesTheOutputNotTheDump() throws Exception {
        Path missing = dir.resolve("no-such-dir").resolve("page.html");
        Cli cli = Cli.run(dump.toString(), "html", "-o", missing.toString());
        assertEquals(2, cli.code(), cli.toString());
        String[] lines = cli.err().split("\n");
        assertEquals(1, lines.length, cli.err());
        assertTrue(lines[0].startsWith("cairn-inspect: " + missing + ": cannot write: "), lines[0]);
        Cli directory = Cli.run(dump.toString(), "html", "-o", dir.toString());
        assertEquals(2, directory.code(), directory.toString());
        assertTrue(directory.err().startsWith("cairn-inspect: " + dir + ": cannot write: "), directory.err());
    }

    @Test
    void controlCharactersInNamesArePrintedEscaped() throws Exception {
        Path path = dir.resolve("names.cdump");
        String name = "two\nlines\u001b[31mred\u0000\u009b";
        try (Allocator allocator = Allocator.create()) {
            CountDownLatch allocated = new CountDownLatch(1);
            CountDownLatch dumped = new CountDownLatch(1);
            Thread t = Thread.ofPlatform().name(name).start(() -> { // alive during the dump: its heap is listed
                allocator.malloc(64);
                allocated.countDown();
                try {
                    dumped.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            allocated.await();
            allocator.dumpHeap(path);
            dumped.countDown();
            t.join();
        }
        Cli cli = Cli.run(path.toString(), "threads");
        assertEquals(0, cli.code(), cli.toString());
        // raw, the newline split the heap's row in two and the escape sequence reached the terminal
        assertTrue(cli.out().contains("two\\nlines\\u001b[31mred\\u0000\\u009b"), cli.out());
        assertTrue(cli.out().chars().noneMatch(c -> (c < 0x20 && c != '\n') || (c >= 0x7f && c <= 0x9f)),
                cli.out());
        assertTrue(cli.out().lines().noneMatch(l -> l.startsWith("lines")), "one row per heap: " + cli.out());
        String json = Cli.run(path.toString(), "threads", "--json").out();
        assertTrue(json.contains("two\\nlines\\u001b[31mred"), json);
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, Cli.run().code());
        assertEquals(2, Cli.run(dump.toString(), "nonsense").code());
        assertEquals(2, Cli.run(dump.toString(), "blocks").code());
        assertEquals(2, Cli.run(dump.toString(), "diff").code());
        assertEquals(2, Cli.run(dump.toString(), "--top", "x").code());
        assertEquals(0, Cli.run("--help").code());
    }
}
