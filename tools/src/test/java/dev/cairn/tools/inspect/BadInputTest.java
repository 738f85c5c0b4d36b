package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.tools.heapdump.DumpBytes;
import dev.cairn.tools.heapdump.DumpFixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of bad file gets one line naming the file, the offset and the problem, and exit code 2. */
class BadInputTest {

    @TempDir
    static Path dir;
    static byte[] good;

    @BeforeAll
    static void writeDump() throws Exception {
        good = Files.readAllBytes(DumpFixtures.standardDump(dir, "good.cdump", false));
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
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(8, (short) 2);
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
    void debugAddsTheStackTrace() throws Exception {
        Cli cli = inspect("debug.cdump", new byte[0], "--debug");
        assertEquals(2, cli.code());
        assertTrue(cli.err().contains("DumpFormatException"), cli.err());
        assertTrue(cli.err().split("\n").length > 1);
    }

    @Test
    void missingFile() {
        Cli cli = Cli.run(dir.resolve("nothing-here.cdump").toString());
        assertEquals(2, cli.code());
        assertTrue(cli.err().contains("nothing-here.cdump: cannot read"), cli.err());
    }
}
