package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.tools.heapdump.DumpFixtures;
import dev.cairn.tools.heapdump.ObjectFixtures;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML report in a real browser: headless Chromium (Debian's {@code chromium}, which {@code .ci/run} installs)
 * loads the page, runs its script, and the test checks the DOM it produced; a screenshot is written to
 * {@code target/heap-dump-report.png}. Without Chromium the test is skipped, saying how to get it.
 */
class HtmlChromiumTest {

    @TempDir
    Path dir;

    @Test
    void theReportRendersAndItsSizeClassesAreClickable() throws Exception {
        Path chromium = findChromium();
        assumeTrue(chromium != null, "chromium is not installed: HTML report not tested in a browser"
                + " (apt-get install chromium; .ci/run installs it)");
        Path dump = DumpFixtures.standardDump(dir, "html.cdump", false);
        Path html = dir.resolve("report.html");
        Cli cli = Cli.run(dump.toString(), "html", "-o", html.toString());
        assertEquals(0, cli.code(), cli.toString());
        String source = Files.readString(html);
        assertFalse(source.contains("http://") || source.contains("https://") || source.contains("src="),
                "self-contained: nothing fetched");

        String dom = chromium(chromium, "--dump-dom", html.toUri() + "#bin=36");
        for (String id : new String[] {"summary", "address-space", "bins", "segments", "threads", "sites",
            "validate"}) {
            assertTrue(dom.contains("id=\"" + id + "\""), "section #" + id + " in the rendered DOM");
        }
        assertEquals(3, count(dom, "class=\"segment-strip\""), "one strip per segment");
        assertEquals(511 + 64 + 1, count(dom, "class=\"page-cell"), "a cell per page: small, medium, huge");
        assertTrue(count(dom, "class=\"bin-row") >= 6, "a row per size class");
        // The script ran in the browser: #bin=36 selected the 20 KiB class, dimmed every other page.
        Matcher detail = Pattern.compile("<div id=\"bin-detail\">([^<]*)</div>").matcher(dom);
        assertTrue(detail.find(), dom);
        assertEquals("size class 36 (20480 bytes): 21 pages highlighted", detail.group(1));
        assertTrue(dom.contains("class=\"bin-row selected\" data-bin=\"36\""), "the selected row is marked");
        assertEquals(count(dom, "class=\"page-cell") - 21, count(dom, " dim\""), "every other cell is dimmed");

        Path png = Path.of("target", "heap-dump-report.png").toAbsolutePath();
        Files.deleteIfExists(png);
        chromium(chromium, "--screenshot=" + png, "--window-size=1280,1800", html.toUri() + "#bin=36");
        assertTrue(Files.size(png) > 10_000, "screenshot written: " + png);
        System.out.println("HTML report screenshot: " + png);
    }

    @Test
    void theObjectsTableOfARuntimeDumpLoads() throws Exception {
        Path chromium = findChromium();
        assumeTrue(chromium != null, "chromium is not installed: HTML report not tested in a browser"
                + " (apt-get install chromium; .ci/run installs it)");
        Path dump = dir.resolve("objects.cdump");
        ObjectFixtures.twoThreads(dump);
        Path html = dir.resolve("objects.html");
        Cli cli = Cli.run(dump.toString(), "html", "-o", html.toString());
        assertEquals(0, cli.code(), cli.toString());

        Matcher bin = Pattern.compile("class=\"bin-row\" data-bin=\"(\\d+)\"").matcher(Files.readString(html));
        assertTrue(bin.find(), "a size class holds the objects");
        String dom = chromium(chromium, "--dump-dom", html.toUri() + "#bin=" + bin.group(1));
        assertTrue(dom.contains("<section id=\"objects\"><h2>Objects</h2>"), "the Objects part in the DOM");
        assertEquals(ObjectFixtures.EXPECTED.size(), count(dom, "class=\"object-row\""), "a row per type");
        Matcher point = Pattern.compile("<tr class=\"object-row\" data-type=\"Point\"><td>Point</td><td>[^<]*</td>"
                + "<td>true</td><td>17</td>").matcher(dom);
        assertTrue(point.find(), "Point: a heap type with 17 objects");
        // the page's script still runs with the new part in it: the linked size class got selected
        assertTrue(dom.contains("<div id=\"bin-detail\">size class " + bin.group(1) + " ("), dom);
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }

    private static Path findChromium() {
        List<String> names = new ArrayList<>();
        String configured = System.getenv("CHROMIUM");
        if (configured != null) {
            names.add(configured);
        }
        names.addAll(List.of("chromium", "chromium-browser", "google-chrome"));
        for (String name : names) {
            if (name.contains("/")) {
                if (Files.isExecutable(Path.of(name))) {
                    return Path.of(name);
                }
                continue;
            }
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /** Runs headless Chromium (no sandbox: CI runs as root) and returns its standard output. */
    private String chromium(Path chromium, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=" + dir.resolve("profile"),
                "--virtual-time-budget=5000"));
        command.addAll(List.of(args));
        Path log = dir.resolve("chromium.log");
        Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("chromium did not finish in 60 s");
        }
        assertEquals(0, process.exitValue(), "chromium failed: " + Files.readString(log));
        return new String(out, StandardCharsets.UTF_8);
    }
}
