package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.tools.heapdump.DumpBytes;
import dev.cairn.tools.heapdump.DumpFixtures;
import dev.cairn.tools.heapdump.ObjectFixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of bad file gets one line naming the file, the offset and the problem, and exit code 2. */
class BadInputTest {

    @TempDir
    static Path dir;
    static byte[] good;
    /** A runtime's dump, with an OBJECTS section. */
    static byte[] objects;

    @BeforeAll
    static void writeDump() throws Exception {
        good = Files.readAllBytes(DumpFixtures.standardDump(dir, "good.cdump", false));
        ObjectFixtures.twoThreads(dir.resolve("objects.cdump"));
        objects = Files.readAllBytes(dir.resolve("objects.cdump"));
    }

    private static Cli inspect(String name, byte[] bytes, String... more) throws Exception {
        Path path = dir.resolve(name);
        Files.write(path, bytes);
        String[] args = new String[more.length + 1];
        args[0] = path.toString();
        System.arraycopy(more, 0, args, 1, more.length);
        return Cli.run(args);
    }

    private static void assertOneLine(Cli cli, String name, long offset, String problem) {
        assertEquals(2, cli.code(), cli.toString());
        assertEquals("", cli.out());
        String[] lines = cli.err().split("\n");
        assertEquals(1, lines.length, "one line, no stack trace: " + cli.err());
        assertTrue(lines[0].startsWith("cairn-inspect: " + dir.resolve(name) + ": at offset " + offset + ": "),
                lines[0]);
        assertTrue(lines[0].contains(problem), lines[0]);
    }

    @Test
    void empty() throws Exception {
        assertOneLine(inspect("empty.cdump", new byte[0]), "empty.cdump", 0, "empty file");
    }

    @Test
    void foreign() throws Exception {
        byte[] elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
        assertOneLine(inspect("foreign.cdump", elf), "foreign.cdump", 0, "not a Cairn heap dump");
        assertOneLine(inspect("text.cdump", "hello, world".getBytes()), "text.cdump", 0, "not a Cairn heap dump");
    }

    @Test
    void futureVersion() throws Exception {
        byte[] bytes = good.clone();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(8, (short) 2).putShort(10, (short) 0);
        DumpBytes.fixChecksums(bytes);
        assertOneLine(inspect("future.cdump", bytes), "future.cdump", 8, "format version 2.0 is not readable");
    }

    @Test
    void newerMinorVersionIsRead() throws Exception {
        byte[] bytes = good.clone();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(10, (short) 7);
        DumpBytes.fixChecksums(bytes);
        assertEquals(0, inspect("minor.cdump", bytes).code());
    }

    @Test
    void truncatedAnywhere() throws Exception {
        assertOneLine(inspect("t50.cdump", Arrays.copyOf(good, 50)), "t50.cdump", 50, "truncated: the header needs");
        assertOneLine(inspect("t9.cdump", Arrays.copyOf(good, 9)), "t9.cdump", 8, "truncated");
        int cut = good.length - 16; // just the END frame missing
        assertOneLine(inspect("tend.cdump", Arrays.copyOf(good, cut)), "tend.cdump", cut,
                "truncated: the file ends before its END section");
        int pages = DumpBytes.sectionBody(good, 3);
        Cli cli = inspect("tpages.cdump", Arrays.copyOf(good, pages + 100));
        assertOneLine(cli, "tpages.cdump", pages - 16, "truncated: section of kind 3 claims");
    }

    @Test
    void corruptedByte() throws Exception {
        byte[] bytes = good.clone();
        int pages = DumpBytes.sectionBody(bytes, 3);
        bytes[pages + 30] ^= 0x10;
        assertOneLine(inspect("flip.cdump", bytes), "flip.cdump", pages - 12, "checksum mismatch in section of kind 3");
        byte[] header = good.clone();
        header[30] ^= 1;
        assertOneLine(inspect("head.cdump", header), "head.cdump", 92, "header checksum mismatch");
    }

    @Test
    void impossibleCountsAreRefusedBeforeAllocating() throws Exception {
        byte[] bytes = good.clone();
        int pages = DumpBytes.sectionBody(bytes, 3);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(pages, Integer.MAX_VALUE);
        DumpBytes.fixChecksums(bytes);
        assertOneLine(inspect("count.cdump", bytes), "count.cdump", pages, "page count 2147483647 needs at least");
    }

    @Test
    void aFirstPageOutsideItsSegmentIsRefused() throws Exception {
        int segments = DumpBytes.sectionBody(good, 2);
        int record = segments + 8;
        for (int firstPage : new int[] {Integer.MIN_VALUE, -1, 1 << 20}) {
            byte[] bytes = good.clone();
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(record + 28, firstPage);
            DumpBytes.fixChecksums(bytes);
            // html used to draw a strip from page -2^31 up: 2^31 cells, an OutOfMemoryError
            for (String command : new String[] {"segments", "html"}) {
                Cli cli = inspect("first.cdump", bytes, command, "-o", dir.resolve("first.html").toString());
                assertOneLine(cli, "first.cdump", record, "first page " + Integer.toUnsignedString(firstPage)
                        + " is impossible");
            }
        }
    }

    @Test
    void aCorruptedOrTruncatedObjectsSectionIsNamed() throws Exception {
        int body = DumpBytes.sectionBody(objects, 0x100);
        int records = DumpBytes.objectRecords(objects);
        assertEquals(0, inspect("objects-ok.cdump", objects, "objects").code(), "the unchanged dump reads");

        byte[] flipped = objects.clone();
        flipped[records + 3] ^= 0x40;
        assertOneLine(inspect("o-flip.cdump", flipped, "objects"), "o-flip.cdump", body - 12,
                "checksum mismatch in section of kind 256");

        byte[] cut = Arrays.copyOf(objects, records + 100);
        assertOneLine(inspect("o-cut.cdump", cut, "objects"), "o-cut.cdump", body - 16,
                "truncated: section of kind 256 claims");

        byte[] count = objects.clone();
        ByteBuffer.wrap(count).order(ByteOrder.LITTLE_ENDIAN).putInt(records - 8, Integer.MAX_VALUE);
        DumpBytes.fixChecksums(count);
        assertOneLine(inspect("o-count.cdump", count, "objects"), "o-count.cdump", records - 8,
                "objects section (kind 256): object count 2147483647 needs at least");

        byte[] type = objects.clone();
        ByteBuffer.wrap(type).order(ByteOrder.LITTLE_ENDIAN).putInt(records + 48 + 36, 999);
        DumpBytes.fixChecksums(type);
        assertOneLine(inspect("o-type.cdump", type, "summary"), "o-type.cdump", records + 48,
                "refers to type 999 of 6");

        byte[] order = objects.clone();
        ByteBuffer o = ByteBuffer.wrap(order).order(ByteOrder.LITTLE_ENDIAN);
        o.putLong(records + 48, o.getLong(records));
        DumpBytes.fixChecksums(order);
        assertOneLine(inspect("o-order.cdump", order, "validate"), "o-order.cdump", records + 48,
                "objects are not in address order");

        byte[] name = objects.clone();
        ByteBuffer.wrap(name).order(ByteOrder.LITTLE_ENDIAN).putShort(body + 24 + 32, (short) 0xFFFF);
        DumpBytes.fixChecksums(name);
        assertOneLine(inspect("o-name.cdump", name, "objects"), "o-name.cdump", body + 24 + 34,
                "objects section (kind 256) is truncated: needs 65535 more bytes");

        byte[] fixed = objects.clone();
        ByteBuffer.wrap(fixed).order(ByteOrder.LITTLE_ENDIAN).putInt(records - 4, 40);
        DumpBytes.fixChecksums(fixed);
        assertOneLine(inspect("o-fixed.cdump", fixed, "objects"), "o-fixed.cdump", records - 4,
                "record size 40 (this reader needs at least 48)");

        // A section cut short inside its frame (length and checksum agree): the object table runs out.
        byte[] shorter = Arrays.copyOf(objects, objects.length);
        ByteBuffer s = ByteBuffer.wrap(shorter).order(ByteOrder.LITTLE_ENDIAN);
        long length = s.getLong(body - 8);
        int keep = records + 48 + 20 - body; // one whole record and part of the next
        byte[] spliced = new byte[shorter.length - (int) (length - keep)];
        System.arraycopy(shorter, 0, spliced, 0, body + keep);
        System.arraycopy(shorter, body + (int) length, spliced, body + keep, shorter.length - body - (int) length);
        ByteBuffer.wrap(spliced).order(ByteOrder.LITTLE_ENDIAN).putLong(body - 8, keep);
        DumpBytes.fixChecksums(spliced);
        Cli cli = inspect("o-short.cdump", spliced, "objects");
        assertEquals(2, cli.code(), cli.toString());
        assertTrue(cli.err().contains("objects section (kind 256)"), cli.err());
    }

    @Test
    void debugAddsTheStackTrace() throws Exception {
        Cli cli = inspect("debug.cdump", new byte[0], "--debug");
        assertEquals(2, cli.code());
        assertTrue(cli.err().contains("DumpFormatException"), cli.err());
        assertTrue(cli.err().split("\n").length > 1);
    }

    @Test
    void aDirectoryOrAFifoIsNotADump() throws Exception {
        Cli directory = Cli.run(dir.toString());
        assertEquals(2, directory.code(), directory.toString());
        assertEquals("cairn-inspect: " + dir + ": cannot read: java.nio.file.FileSystemException: " + dir
                + ": not a regular file\n", directory.err(), "it said 'No such device'");
        Path fifo = dir.resolve("fifo.cdump");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("no mkfifo here: " + e);
            return;
        }
        Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo failed");
        // opening a FIFO with no writer blocked forever
        Cli cli = assertTimeoutPreemptively(Duration.ofSeconds(3), () -> Cli.run(fifo.toString()));
        assertEquals(2, cli.code(), cli.toString());
        assertTrue(cli.err().endsWith(fifo + ": not a regular file\n"), cli.err());
    }

    @Test
    void missingFile() {
        Cli cli = Cli.run(dir.resolve("nothing-here.cdump").toString());
        assertEquals(2, cli.code());
        assertTrue(cli.err().contains("nothing-here.cdump: cannot read"), cli.err());
    }
}
