package dev.cairn.bench.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.bench.workload.ParamSpec;
import dev.cairn.bench.workload.Params;
import dev.cairn.bench.workload.Workload;
import dev.cairn.bench.workload.Workloads;
import java.util.Map;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RunnerArgsTest {

    @Test
    void defaultsAreTheQuickRunOfEverything() throws UsageException {
        RunnerArgs args = RunnerArgs.parse();
        assertEquals(ParamSpec.Preset.QUICK, args.preset());
        assertEquals(Workloads.all(), args.workloads());
        assertEquals(RunnerArgs.knownPeers(), args.peers());
        assertEquals(3, args.reps());
        assertEquals(1, args.forks());
        assertEquals(0, args.threads());
    }

    /**
     * A {@code --param} without {@code --workload} goes to every workload that has the name, so a name must mean the
     * same thing everywhere: the README's {@code --param ops=1000000} (operations per thread) must not turn into a
     * million operations in each of rptest's loops, nor a small-block {@code maxSize} be refused for malloc-large.
     */
    @Test
    void theReadmesGlobalOverridesKeepTheirMeaningForEveryWorkload() throws UsageException {
        RunnerArgs args = RunnerArgs.parse("--param", "ops=1000000", "--param", "maxSize=2000");
        assertEquals(Workloads.all(), args.workloads());
        assertEquals(preset("malloc-large", Map.of()), preset("malloc-large", args.params()),
                "malloc-large took a maxSize meant for small blocks");
        assertEquals(preset("rptest", Map.of()), preset("rptest", Map.of("ops", 1_000_000L)),
                "rptest took an ops meant as operations per thread");
    }

    private static Map<String, Long> preset(String workload, Map<String, Long> overrides) {
        Workload w = Workloads.byName(workload).orElseThrow();
        return Params.of(workload, w.params(), ParamSpec.Preset.QUICK, overrides, false).asMap();
    }

    @Test
    void fullRaisesRepetitionsAndForks() throws UsageException {
        RunnerArgs args = RunnerArgs.parse("--full");
        assertEquals(5, args.reps());
        assertEquals(3, args.forks());
    }

    @Test
    void narrowsWorkloadsPeersAndThreads() throws UsageException {
        RunnerArgs args = RunnerArgs.parse("--workload", "larson,pairs", "--peer", "glibc,cairn-checked",
                "--threads", "4", "--param", "ops=1_000", "--reps", "2");
        assertEquals(List.of("larson", "pairs"), args.workloads().stream().map(Workload::name).toList());
        assertEquals(List.of("glibc", "cairn-checked"), args.peers());
        assertEquals(4, args.threadsFor(args.workloads().getFirst()));
        assertEquals(1000L, args.params().get("ops"));
        assertEquals(2, args.reps());
    }

    @Test
    void usageNamesEveryOptionTheParserTakes() throws UsageException {
        // --quick was accepted (and named in the --smoke --full error) but missing from --help
        for (String option : List.of("--smoke", "--quick", "--full", "--workload", "--peer", "--threads", "--reps",
                "--forks", "--param", "--out", "--list")) {
            assertTrue(RunnerArgs.USAGE.contains(option + " "), option);
        }
        assertEquals(ParamSpec.Preset.QUICK, RunnerArgs.parse("--quick").preset());
    }

    @Test
    void aLaterOutWins() throws UsageException {
        // scripts/bench passes the repository's bench-results first, then the caller's arguments
        RunnerArgs args = RunnerArgs.parse("--out", "/repo/bench-results", "--workload", "pairs", "--out", "mine");
        assertEquals(java.nio.file.Path.of("mine"), args.outDir());
        assertEquals(java.nio.file.Path.of("/repo/bench-results"), RunnerArgs.parse("--out", "/repo/bench-results")
                .outDir());
    }

    @Test
    void aCFloorWithAFloorWorkloadOrAJvmPeerIsEnough() throws UsageException {
        assertEquals(List.of("c-glibc"), RunnerArgs.parse("--peer", "c-glibc", "--workload", "larson,pairs").peers());
        assertEquals(2, RunnerArgs.parse("--peer", "c-glibc,glibc", "--workload", "larson").peers().size());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--workload nosuch | unknown workload 'nosuch'; known: pairs, batch",
        "--peer glibc,nosuch | unknown peer 'nosuch'; known: cairn-checked",
        "--threads 0 | --threads needs a whole number from 1 to 1024, not '0'",
        "--threads two | --threads needs a whole number from 1 to 1024, not 'two'",
        "--threads | --threads needs a value",
        "--reps -3 | --reps needs a whole number from 1 to 1000, not '-3'",
        "--param ops | --param needs NAME=VALUE, not 'ops'",
        "--param ops=many | --param ops needs a whole number, not 'many'",
        "--param nosuch=1 | no chosen workload has a parameter 'nosuch'",
        "--workload pairs --param slots=3 | no chosen workload has a parameter 'slots'",
        "--param ops=0 | workload pairs: ops=0 is outside [1,",
        "--smoke --full | give at most one of --smoke, --quick, --full",
        "--fast | unknown argument '--fast'",
        "--workload pairs,,batch | --workload has an empty name",
        // a trailing or lone comma used to be dropped by split: "--peer ," ran no cell and exited 0
        "--peer , | --peer has an empty name in ','",
        "--workload pairs, | --workload has an empty name in 'pairs,'",
        // the C floors run some workloads only: this pair used to run nothing and exit 0
        "--workload larson --peer c-glibc,c-mimalloc | nothing to run: the C floors (c-glibc, c-mimalloc) run only",
        // used to pass here and then fail in every batch child JVM
        "--workload batch --param minSize=2000 | workload batch: maxSize 1024 is below minSize 2000",
        "--param maxSize=8 | workload pairs: maxSize 8 is below minSize 16"})
    void rejectsBadInputWithAClearMessage(String line, String message) {
        UsageException e = assertThrows(UsageException.class, () -> RunnerArgs.parse(line.trim().split(" +")));
        assertTrue(e.getMessage().startsWith(message.trim()), e.getMessage());
    }
}
