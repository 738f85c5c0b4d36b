package dev.cairn.bench.stress;

import dev.cairn.bench.peer.PeerSpec;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.workload.ParamSpec;
import dev.cairn.bench.workload.Params;
import dev.cairn.bench.workload.Workload;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs every chosen (workload, peer) in its own processes, prints progress and tables, and writes the result
 * folder. Cells that cannot run here (a library not installed, a peer that cannot free across threads) are listed
 * as skipped with their reason; a process that fails is listed as failed and makes the run fail.
 */
public final class StressRunner {
    private static final DateTimeFormatter FOLDER = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
            .withZone(ZoneOffset.UTC);

    private final RunnerArgs args;
    private final ChildLauncher launcher;
    private final PrintStream progress;

    StressRunner(RunnerArgs args, ChildLauncher launcher, PrintStream progress) {
        this.args = args;
        this.launcher = launcher;
        this.progress = progress;
    }

    /** What a run produced. */
    public record Outcome(List<Cell> cells, Path folder, String tables) {
        public boolean failed() {
            return cells.stream().anyMatch(c -> !c.ok() && !c.skipped());
        }
    }

    public Outcome run(String commandLine) throws IOException, InterruptedException {
        Instant started = Instant.now();
        // Made before any cell runs: an unwritable --out fails in a second with one line, not after the whole run
        // with a stack trace and the results lost.
        Path folder = folder(started);
        noteUnavailable();
        List<Plan> plans = plan();
        int total = plans.stream().mapToInt(p -> p.skipReason == null ? args.forks() : 0).sum();
        int done = 0;
        List<Cell> cells = new ArrayList<>();
        for (Plan plan : plans) {
            if (plan.skipReason != null) {
                cells.add(Cell.skipped(plan.workload.name(), plan.peer, plan.family, plan.threads, plan.skipReason));
                continue;
            }
            List<ChildReport> reports = new ArrayList<>();
            String error = null;
            for (int fork = 1; fork <= args.forks() && error == null; fork++) {
                progress(++done, total, plan, fork, started);
                try {
                    reports.add(runOne(plan));
                } catch (IOException e) {
                    error = e.getMessage();
                }
            }
            cells.add(new Cell(plan.workload.name(), plan.peer, plan.family, plan.threads, plan.params.toString(),
                    error == null ? reports : List.of(), error, false));
        }
        progress.println();
        List<String> workloadNames = args.workloads().stream().map(Workload::name).toList();
        String targets = Targets.render(cells);
        if (args.preset() == ParamSpec.Preset.SMOKE) { // tiny, barely warmed runs: the verdicts would mislead
            targets = "(smoke run: it proves every workload runs with every peer; its times are no measurement, so "
                    + "the targets are not checked)\n\n";
        }
        String tables = TableReport.render(workloadNames, cells) + targets;
        RunInfo info = RunInfo.here(started, commandLine, args.preset().name().toLowerCase(java.util.Locale.ROOT));
        write(folder, info, workloadNames, cells, tables);
        return new Outcome(cells, folder, tables);
    }

    private ChildReport runOne(Plan plan) throws IOException, InterruptedException {
        if (plan.family == PeerSpec.Family.NATIVE_C) {
            return launcher.runNative(NativeFloor.binary(args.nativeDir(), plan.peer), plan.workload, plan.threads,
                    plan.params, args.reps());
        }
        PeerSpec spec = Peers.byName(plan.peer).orElseThrow();
        return launcher.runJvm(plan.workload, spec, plan.threads, args.preset(), args.reps(), args.params());
    }

    /** One line per peer that cannot run on this machine, before the run starts. */
    private void noteUnavailable() {
        for (String peer : args.peers()) {
            Optional<String> reason = NativeFloor.isNativePeer(peer)
                    ? NativeFloor.unavailableReason(args.nativeDir(), peer)
                    : Peers.byName(peer).orElseThrow().unavailableReason();
            reason.ifPresent(r -> progress.println("note: skipping " + peer + ": " + r));
        }
    }

    private record Plan(Workload workload, String peer, PeerSpec.Family family, int threads, Params params,
            String skipReason) {
    }

    private List<Plan> plan() {
        List<Plan> plans = new ArrayList<>();
        for (Workload workload : args.workloads()) {
            int threads = args.threadsFor(workload);
            Params params = Params.of(workload.name(), workload.params(), args.preset(), args.params(), false);
            for (String peer : args.peers()) {
                if (NativeFloor.isNativePeer(peer)) {
                    if (NativeFloor.WORKLOADS.contains(workload.name())) {
                        plans.add(new Plan(workload, peer, PeerSpec.Family.NATIVE_C, threads, params,
                                NativeFloor.unavailableReason(args.nativeDir(), peer).orElse(null)));
                    }
                    continue;
                }
                PeerSpec spec = Peers.byName(peer).orElseThrow();
                String reason = spec.unavailableReason().orElse(null);
                if (reason == null && workload.crossThread() && !spec.crossThread()) {
                    reason = "cannot free a block on another thread";
                }
                plans.add(new Plan(workload, peer, spec.family(), threads, params, reason));
            }
        }
        return plans;
    }

    private void progress(int done, int total, Plan plan, int fork, Instant started) {
        long seconds = java.time.Duration.between(started, Instant.now()).toSeconds();
        String line = String.format("[%d/%d] %s with %s%s, %d:%02d elapsed", done, total, plan.workload.name(),
                plan.peer, args.forks() > 1 ? " (fork " + fork + "/" + args.forks() + ")" : "", seconds / 60,
                seconds % 60);
        java.io.Console console = System.console();
        if (console != null && console.isTerminal()) { // one line, rewritten in place; a log gets a line per step
            progress.print("\r\033[K" + line);
        } else {
            progress.println(line);
        }
        progress.flush();
    }

    /** A new timestamped folder under {@code --out}, created now. */
    private Path folder(Instant started) throws IOException {
        Path folder = args.outDir().resolve(FOLDER.format(started));
        for (int n = 2; Files.exists(folder); n++) {
            folder = args.outDir().resolve(FOLDER.format(started) + "-" + n);
        }
        try {
            Files.createDirectories(folder);
        } catch (IOException e) { // NoSuchFileException's message is the bare path: say what went wrong
            throw new IOException("cannot create the results folder " + folder + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        }
        return folder;
    }

    private void write(Path folder, RunInfo info, List<String> workloads, List<Cell> cells, String tables)
            throws IOException {
        Files.writeString(folder.resolve("results.csv"), CsvReport.render(cells), StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("results.json"), JsonReport.render(info, cells), StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("chart.svg"), SvgChart.render(info, workloads, cells),
                StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("tables.md"), tables, StandardCharsets.UTF_8);
    }
}
