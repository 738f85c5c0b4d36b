package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.runtime.Instances;
import dev.cairn.runtime.Interpreter;
import dev.cairn.runtime.InterpreterConfig;
import dev.cairn.runtime.Ref;
import dev.cairn.runtime.Runtime;
import dev.cairn.runtime.ThreadState;
import dev.cairn.runtime.Types;
import dev.cairn.tools.heapdump.DumpFixtures;
import dev.cairn.tools.heapdump.ObjectFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Objects part of the {@code html} report: on the two-thread runtime dump its rows carry the hand-worked counts
 * of {@link ObjectFixtures#EXPECTED} in the {@code objects} command's order; an allocator's dump gets no such part;
 * a type name from the dump is text, never markup.
 */
class HtmlObjectsTest {

    @TempDir
    static Path dir;
    static String html;

    @BeforeAll
    static void writeReport() throws Exception {
        Path dump = dir.resolve("objects.cdump");
        ObjectFixtures.twoThreads(dump);
        html = render(dump);
    }

    static String render(Path dump) throws Exception {
        Path out = dir.resolve(dump.getFileName() + ".html");
        Cli cli = Cli.run(dump.toString(), "html", "-o", out.toString());
        assertEquals(0, cli.code(), cli.toString());
        return Files.readString(out);
    }

    /** The cell texts of the object row of {@code type}: type, kind, heapType, objects, bytes, ofBytes, ... */
    private static List<String> cells(String page, String type) {
        Matcher row = Pattern.compile("<tr class=\"object-row\" data-type=\"" + Pattern.quote(type)
                + "\">(.*?)</tr>").matcher(page);
        assertTrue(row.find(), "no row for " + type);
        List<String> cells = new ArrayList<>();
        Matcher cell = Pattern.compile("<td>([^<]*)</td>").matcher(row.group(1));
        while (cell.find()) {
            cells.add(cell.group(1));
        }
        return cells;
    }

    @Test
    void theObjectsPartHasARowPerTypeWithItsCountsMostBytesFirst() {
        String from = html.substring(html.indexOf("<section id=\"objects\">"));
        String part = from.substring(0, from.indexOf("</section>"));
        assertTrue(part.contains("<h2>Objects</h2>"), part);
        Matcher header = Pattern.compile("<table><tr>((?:<th>[^<]*</th>)+)</tr><tr class=\"object-row\"")
                .matcher(part);
        assertTrue(header.find(), part);
        assertEquals("<th>type</th><th>kind</th><th>heapType</th><th>objects</th><th>bytes</th><th>ofBytes</th>"
                + "<th>immortal</th><th>refs</th>", header.group(1));
        ObjectFixtures.EXPECTED.forEach((type, counts) -> {
            List<String> row = cells(part, type);
            assertEquals(type, row.get(0));
            assertEquals(String.valueOf(counts[0]), row.get(3), type + " objects");
            assertEquals("0", row.get(6), type + " immortal");
            assertEquals(String.valueOf(counts[1]), row.get(7), type + " refs");
        });
        assertEquals("true", cells(part, "Point").get(2), "Point is a heap type");
        assertEquals("false", cells(part, "int").get(2), "int is static");
        assertTrue(part.contains("<th>objects</th><td>155</td>"), "the part's totals: " + part);

        List<String> order = new ArrayList<>();
        Matcher types = Pattern.compile("data-type=\"([^\"]*)\"").matcher(part);
        while (types.find()) {
            order.add(types.group(1));
        }
        String json = Cli.run(dir.resolve("objects.cdump").toString(), "objects", "--json").out();
        List<String> ranked = new ArrayList<>();
        Matcher byType = Pattern.compile("\\{\"type\":\"([^\"]*)\"").matcher(json);
        while (byType.find()) {
            ranked.add(byType.group(1));
        }
        assertEquals(6, order.size(), part);
        assertEquals(ranked, order, "the objects command's ranking, most bytes first");

        String summary = html.substring(html.indexOf("<section id=\"summary\">"), html.indexOf("</section>"));
        assertTrue(summary.contains("<th>objects</th><td>155</td>"), summary);
        assertTrue(summary.contains("<th>objectTypes</th><td>6</td>"), summary);
    }

    @Test
    void anAllocatorsDumpHasNoObjectsPart() throws Exception {
        String plain = render(DumpFixtures.smallDump(dir, "plain.cdump"));
        assertFalse(plain.contains("id=\"objects\""), "no Objects section");
        assertFalse(plain.contains("object-row"));
        assertFalse(plain.contains("<h2>Objects</h2>"));
        assertFalse(plain.contains("<th>objects</th>"), "nor an object count in the summary");
        assertTrue(plain.contains("id=\"sites\"") && plain.contains("id=\"validate\""), "the rest is there");
    }

    @Test
    void aHostileTypeNameIsEscaped() throws Exception {
        String name = "<script>document.title=\"x\"</script>&<b>";
        Path dump = dir.resolve("hostile.cdump");
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState ts = interp.newThreadState()) {
                long type = Types.newHeapType(ts, name, 0);
                long obj = Instances.create(ts, type);
                interp.dumpHeap(dump);
                Ref.decref(ts, obj);
                Ref.decref(ts, type);
            }
            interp.release();
        }
        String page = render(dump);
        String escaped = "&lt;script&gt;document.title=&quot;x&quot;&lt;/script&gt;&amp;&lt;b&gt;";
        List<String> row = cells(page, escaped);
        assertEquals(escaped, row.get(0), "the name as text, in the cell and in data-type");
        assertEquals("1", row.get(3));
        assertFalse(page.contains("<script>document"), "no markup from the dump");
        assertFalse(page.contains("<b>"));
        assertEquals(1, page.split("<script>", -1).length - 1, "only the page's own script");
    }
}
