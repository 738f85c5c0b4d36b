package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.DumpOptions;
import dev.cairn.tools.heapdump.DumpBytes;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading a dump's block contents costs Java heap for its index, not for every block: the index held three longs per
 * block, so a dump of a heap of many small blocks (1.5 million 16-byte blocks, a 48 MiB file) needed more heap than
 * the file's size and the tool died of an OutOfMemoryError with a stack trace; a crafted file of 16-byte records
 * needed 1.5 times its size. The tool runs here in a child JVM with a small heap. Found reading a contents dump of
 * many small blocks with {@code -Xmx64m}.
 */
class ContentsMemoryTest {

    private static final String HEAP = "-Xmx40m";

    @TempDir
    Path dir;

    private static Cli runChild(String... args) throws Exception {
        String classes = new File(InspectCli.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .getPath();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), HEAP, "-XX:TieredStopAtLevel=1", "-cp", classes, InspectCli.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
        byte[] out = process.getInputStream().readAllBytes();
        byte[] err = process.getErrorStream().readAllBytes();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS));
        return new Cli(process.exitValue(), new String(out, StandardCharsets.UTF_8),
                new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void aContentsDumpOfManySmallBlocksIsReadInLittleHeap() throws Exception {
        Path path = dir.resolve("many.cdump");
        try (Allocator allocator = Allocator.create()) {
            for (int i = 0; i < 1_500_000; i++) {
                allocator.malloc(16);
            }
            allocator.dumpHeap(path, DumpOptions.withContents());
        }
        Cli cli = runChild(path.toString(), "blocks", "--bin", "0", "--live", "--contents", "--limit", "2");
        assertEquals(0, cli.code(), cli.toString());
        assertTrue(cli.out().contains("matching: 1500000"), cli.out());
        assertTrue(cli.out().contains("00 00 00 00"), cli.out());
    }

    /** The sparse index finds every live block's bytes and nothing else: free blocks, interiors, out of range. */
    @Test
    void lookupsFindExactlyTheLiveBlocks() throws Exception {
        Path path = dev.cairn.tools.heapdump.DumpFixtures.standardDump(dir, "standard.cdump", true);
        try (var dump = dev.cairn.tools.heapdump.HeapDump.open(path)) {
            long live = 0;
            for (var page : dump.pages()) {
                for (int i = 0; i < page.capacity(); i++) {
                    long address = page.start() + i * page.blockSize();
                    var bytes = dump.contents(address);
                    if (dump.isLive(page, i)) {
                        live++;
                        assertNotNull(bytes, Long.toHexString(address));
                        assertEquals(page.blockSize(), bytes.byteSize());
                    } else {
                        assertNull(bytes, Long.toHexString(address));
                    }
                    assertNull(dump.contents(address + 8));
                }
            }
            assertTrue(live > 2 * 64, "more live blocks than a few index strides: " + live);
            assertNull(dump.contents(0));
            assertNull(dump.contents(-1));
        }
    }

    /** Zero-length records (no writer makes them) are refused rather than indexed: the smallest block is 16 bytes. */
    @Test
    void aContentsSectionOfEmptyRecordsIsRefused() throws Exception {
        byte[] good = Files.readAllBytes(dev.cairn.tools.heapdump.DumpFixtures.smallDump(dir, "small.cdump"));
        int body = DumpBytes.sectionBody(good, 9);
        int records = 3_000_000;
        ByteBuffer out = ByteBuffer.allocate(body + records * 16 + 16).order(ByteOrder.LITTLE_ENDIAN);
        out.put(good, 0, body);
        out.putLong(body - 8, (long) records * 16);
        for (int i = 0; i < records; i++) {
            out.putLong(0x1000L + i * 16L).putLong(0);
        }
        out.putInt(0).putInt(0).putLong(0); // END
        byte[] crafted = out.array();
        DumpBytes.fixChecksums(crafted);
        Path path = dir.resolve("empty-records.cdump");
        Files.write(path, crafted);
        Cli cli = runChild(path.toString());
        assertEquals(2, cli.code(), cli.toString());
        assertEquals(1, cli.err().lines().count(), cli.err());
        assertTrue(cli.err().contains("at offset " + body + ":"), cli.err());
    }

    /**
     * Reading can still need more heap than the JVM has (a crafted SITES section of millions of one-byte frames
     * costs tens of bytes of heap per file byte): one line naming the file and what to do, exit 2, no stack trace.
     */
    @Test
    void runningOutOfHeapIsOneLine() throws Exception {
        byte[] good = Files.readAllBytes(dev.cairn.tools.heapdump.DumpFixtures.smallDump(dir, "sites.cdump"));
        ByteBuffer in = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN);
        int frame = DumpBytes.sectionBody(good, 7) - 16;
        int next = frame + 16 + (int) in.getLong(frame + 8);
        int sites = in.getInt(frame + 16 + 4);
        int frames = 12_000_000;
        ByteBuffer body = ByteBuffer.allocate(8 + (sites - 1) * 4 + 4 + frames * 3).order(ByteOrder.LITTLE_ENDIAN);
        body.putInt(in.getInt(frame + 16)).putInt(sites);
        for (int site = 0; site < sites - 1; site++) {
            body.putInt(0);
        }
        body.putInt(frames);
        for (int f = 0; f < frames; f++) {
            body.putShort((short) 1).put((byte) ('a' + f % 26));
        }
        ByteBuffer out = ByteBuffer.allocate(good.length - (next - frame - 16) + body.capacity())
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(good, 0, frame + 8).putLong(body.capacity()).put(body.array()).put(good, next, good.length - next);
        byte[] crafted = out.array();
        DumpBytes.fixChecksums(crafted);
        Path path = dir.resolve("many-frames.cdump");
        Files.write(path, crafted);
        Cli cli = runChild(path.toString(), "sites");
        assertEquals(2, cli.code(), cli.toString());
        assertEquals(1, cli.err().lines().count(), cli.err());
        assertTrue(cli.err().startsWith("cairn-inspect: " + path + ": not enough memory"), cli.err());
        assertTrue(cli.err().contains("-Xmx"), cli.err());
    }
}
