package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.tools.heapdump.DumpFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code html -o} naming the dump itself (a slip of the shell's completion) overwrote the dump with the page: the
 * dump was lost. It is refused in one line, and the dump stays readable. Found trying output paths.
 */
class HtmlOverDumpTest {

    @TempDir
    Path dir;

    @Test
    void htmlNeverOverwritesTheDump() throws Exception {
        Path dump = DumpFixtures.smallDump(dir, "keep.cdump");
        byte[] before = Files.readAllBytes(dump);
        for (String output : new String[] {dump.toString(), dir.resolve(".").resolve("keep.cdump").toString()}) {
            Cli cli = Cli.run(dump.toString(), "html", "-o", output);
            assertEquals(2, cli.code(), cli.toString());
            assertEquals(1, cli.err().lines().count(), cli.err());
            assertTrue(cli.err().contains("the dump itself"), cli.err());
            assertArrayEquals(before, Files.readAllBytes(dump));
        }
        assertEquals(0, Cli.run(dump.toString(), "validate").code());
        assertEquals(0, Cli.run(dump.toString(), "html", "-o", dir.resolve("page.html").toString()).code());
    }
}
