package dev.cairn.bench.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end: forked JVMs on this class path, reports parsed, the result folder written. */
class StressRunnerTest {

    @Test
    void smokeRunForksOneJvmPerPeerAndWritesTheFolder(@TempDir Path out) throws Exception {
        RunnerArgs args = RunnerArgs.parse("--smoke", "--workload", "pairs,larson", "--peer",
                "cairn-checked,glibc,arena-confined,c-glibc", "--out", out.toString(), "--param", "ops=2000");
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        StressRunner.Outcome outcome = new StressRunner(args, ChildLauncher.forThisJvm(Duration.ofMinutes(2)),
                new PrintStream(progress, true, StandardCharsets.UTF_8)).run("test");
        assertFalse(outcome.failed(), outcome.tables());
        // pairs: 3 JVM peers + the C floor (skipped: no native folder); larson: 3 JVM peers (arena skipped).
        assertEquals(7, outcome.cells().size());
        assertEquals(5, outcome.cells().stream().filter(Cell::ok).count(), outcome.tables());
        Cell pairs = outcome.cells().getFirst();
        assertEquals("pairs", pairs.workload());
        assertEquals(2000, pairs.operations());
        assertTrue(pairs.reports().getFirst().peakRssBytes() >= pairs.reports().getFirst().idleRssBytes());
        assertTrue(outcome.tables().contains("skipped: no native build folder"), outcome.tables());
        assertTrue(outcome.tables().contains("| arena-confined | skipped: cannot free a block on another thread"));
        assertTrue(outcome.tables().contains("(smoke run: it proves every workload runs"), outcome.tables());
        for (String file : new String[] {"results.csv", "results.json", "chart.svg", "tables.md"}) {
            assertTrue(Files.size(outcome.folder().resolve(file)) > 0, file);
        }
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("[5/5] larson with glibc"),
                progress.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anUnwritableResultsFolderFailsBeforeAnythingRuns(@TempDir Path dir) throws Exception {
        Path notAFolder = Files.writeString(dir.resolve("file"), "x");
        RunnerArgs args = RunnerArgs.parse("--smoke", "--workload", "pairs", "--peer", "glibc", "--out",
                notAFolder.toString());
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        // A java that does not exist: nothing may be forked anyway.
        ChildLauncher launcher = new ChildLauncher(dir.resolve("no-java"), "", Duration.ofSeconds(10));
        IOException e = assertThrows(IOException.class, () -> new StressRunner(args, launcher,
                new PrintStream(progress, true, StandardCharsets.UTF_8)).run("test"));
        assertTrue(e.getMessage().startsWith("cannot create the results folder " + notAFolder), e.getMessage());
        assertEquals("", progress.toString(StandardCharsets.UTF_8)); // it used to run every cell first
    }
}
