package dev.cairn.bench.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.bench.peer.PeerSpec;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/** The runner's outputs parse with ordinary tools and say what was measured. */
class ReportsTest {
    private static final RunInfo INFO = new RunInfo(Instant.parse("2026-11-25T21:00:00Z"),
            "scripts/bench --peer \"a,b\" <x>", "quick", "AMD EPYC & co", 2, "OpenJDK 25");

    private static ChildReport report(long... timesMs) {
        List<Long> times = new ArrayList<>();
        for (long t : timesMs) {
            times.add(t * 1_000_000);
        }
        return new ChildReport(times, 1000, 100L << 20, 150L << 20, 120L << 20, 3000, 3000);
    }

    private static List<Cell> cells() {
        return List.of(
                new Cell("pairs", "cairn-checked", PeerSpec.Family.CAIRN, 1, "ops=1000", List.of(report(10, 12, 11)),
                        null, false),
                new Cell("pairs", "c-mimalloc", PeerSpec.Family.NATIVE_C, 1, "ops=1000", List.of(report(20, 20, 20)),
                        null, false),
                new Cell("pairs", "netty-pooled", PeerSpec.Family.JVM, 1, "ops=1000", List.of(),
                        "exit status 1: java.lang.Error: \"boom\", with a comma\nand a line", false),
                Cell.skipped("pairs", "jemalloc", PeerSpec.Family.NATIVE_FFM, 1, "libjemalloc.so.2 not found"));
    }

    @Test
    void summariesAreMediansAndRatios() {
        Cell cairn = cells().getFirst();
        assertEquals(11.0, cairn.medianMillis(), 1e-9);
        assertEquals(50.0, cairn.addedRssMib(), 1e-9);
        assertEquals(1000 / 11e-3 / 1e6, cairn.mopsPerSecond(), 1e-9); // 1000 operations in 11 ms
        String tables = TableReport.render(List.of("pairs"), cells());
        assertTrue(tables.contains("| cairn-checked | 11.0 | ±9% | 0.09 | 150.0 | 50.0 | 1.00 | 0.55 |"), tables);
        assertTrue(tables.contains("| c-mimalloc | 20.0 | ±0% | 0.05 | 150.0 | 50.0 | 1.82 | 1.00 |"), tables);
        assertTrue(tables.contains("| jemalloc | skipped: libjemalloc.so.2 not found"), tables);
        assertTrue(tables.contains("| netty-pooled | FAILED: "), tables);
    }

    @Test
    void targetsSayMetOrNotWithTheirNumbers() {
        List<Cell> cells = new ArrayList<>(cells());
        cells.add(new Cell("pairs", "glibc", PeerSpec.Family.NATIVE_FFM, 1, "", List.of(report(25, 25, 25)), null,
                false));
        String targets = Targets.render(cells);
        assertTrue(targets.contains("fastest JVM-callable allocator (FFM peers included) on pairs: met "
                + "(cairn-checked 11.0 ms, fastest other glibc 25.0 ms)"), targets);
        assertTrue(targets.contains("at least 3x faster than glibc through FFM on pairs: NOT met (2.27x"), targets);
        assertTrue(targets.contains("faster than native C mimalloc on pairs: met (1.82x"), targets);
        assertTrue(targets.contains("faster than native C mimalloc on batch: not measured in this run"), targets);
    }

    @Test
    void csvHasOneWellFormedRowPerCell() {
        String csv = CsvReport.render(cells());
        List<List<String>> rows = parseCsv(csv);
        assertEquals(5, rows.size());
        int columns = CsvReport.HEADER.split(",").length;
        for (List<String> row : rows) {
            assertEquals(columns, row.size(), row.toString());
        }
        assertEquals("cairn-checked", rows.get(1).get(1));
        assertEquals("10000000;12000000;11000000", rows.get(1).get(17));
        assertEquals("failed", rows.get(3).get(4));
        assertTrue(rows.get(3).get(18).contains("with a comma\nand a line"));
    }

    @Test
    void jsonParsesAndKeepsRawTimes() throws Exception {
        JsonNode root = new ObjectMapper().readTree(JsonReport.render(INFO, cells()));
        assertEquals("scripts/bench --peer \"a,b\" <x>", root.get("run").get("command").asText());
        JsonNode results = root.get("results");
        assertEquals(4, results.size());
        assertEquals(3, results.get(0).get("timesNs").size());
        assertEquals(1.0, results.get(0).get("ratioBest").asDouble(), 1e-9);
        assertEquals("failed", results.get(2).get("status").asText());
        assertTrue(results.get(2).get("error").asText().contains("\"boom\""));
        assertEquals("skipped", results.get(3).get("status").asText());
    }

    @Test
    void svgIsWellFormedXmlWithABarPerMeasuredPeer() throws Exception {
        String svg = SvgChart.render(INFO, List.of("pairs"), cells());
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getNodeName());
        // Background + 4 legend swatches + 2 bars (time, RSS) for each of the 2 peers that ran.
        assertEquals(1 + 4 + 2 * 2, doc.getElementsByTagName("rect").getLength());
        assertTrue(svg.contains("AMD EPYC &amp; co"));
    }

    @Test
    void childReportRoundTripsAndRejectsGarbage() {
        ChildReport report = report(1, 2, 3);
        assertEquals(report, ChildReport.find("noise\n" + report.format() + "\nmore noise\n"));
        assertThrows(IllegalArgumentException.class, () -> ChildReport.find("no report here"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChildReport.find(ChildReport.PREFIX + "times=1,x operations=1"));
        assertTrue(e.getMessage().contains("bad number for times ('x')"), e.getMessage());
    }

    /** A small RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks. */
    static List<List<String>> parseCsv(String csv) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < csv.length(); i++) {
            char c = csv.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < csv.length() && csv.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\n') {
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
            } else {
                field.append(c);
            }
        }
        assertTrue(!quoted && row.isEmpty() && field.isEmpty(), "CSV ends with a complete row");
        return rows;
    }
}
