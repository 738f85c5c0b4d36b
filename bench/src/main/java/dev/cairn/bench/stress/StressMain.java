package dev.cairn.bench.stress;

import dev.cairn.bench.peer.PeerSpec;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.workload.ParamSpec;
import dev.cairn.bench.workload.Workload;
import dev.cairn.bench.workload.Workloads;
import java.io.IOException;
import java.time.Duration;

/** {@code scripts/bench}: parses the command line, runs the {@link StressRunner}, prints the tables. */
public final class StressMain {
    private StressMain() {
    }

    public static void main(String[] argv) throws IOException, InterruptedException {
        RunnerArgs args;
        try {
            args = RunnerArgs.parse(argv);
        } catch (UsageException e) {
            System.err.println("scripts/bench: " + e.getMessage());
            System.err.print(RunnerArgs.USAGE);
            System.exit(2);
            return;
        }
        if (args.help()) {
            System.out.print(RunnerArgs.USAGE);
            return;
        }
        if (args.list()) {
            System.out.print(list(args));
            return;
        }
        Duration timeout = switch (args.preset()) {
            case SMOKE -> Duration.ofMinutes(2);
            case QUICK -> Duration.ofMinutes(5);
            case FULL -> Duration.ofMinutes(30);
        };
        StressRunner.Outcome outcome;
        try {
            outcome = new StressRunner(args, ChildLauncher.forThisJvm(timeout), System.err)
                    .run("scripts/bench " + String.join(" ", argv));
        } catch (IOException e) { // the results folder (--out) not writable, a disk full: one line, no stack trace
            System.err.println("scripts/bench: " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.print(outcome.tables());
        System.out.println("results: " + outcome.folder().toAbsolutePath() + " (results.csv, results.json, "
                + "chart.svg, tables.md)");
        if (outcome.failed()) {
            System.err.println("scripts/bench: some runs FAILED (see the tables)");
            System.exit(1);
        }
    }

    static String list(RunnerArgs args) {
        StringBuilder out = new StringBuilder("workloads (parameters: smoke / quick / full):\n");
        for (Workload w : Workloads.all()) {
            out.append("  ").append(w.name()).append(": ").append(w.description()).append(" [")
                    .append(w.defaultThreads()).append(w.defaultThreads() == 1 ? " thread]\n" : " threads]\n");
            for (ParamSpec p : w.params()) {
                out.append("      ").append(p.name()).append(" = ").append(p.smoke()).append(" / ").append(p.quick())
                        .append(" / ").append(p.full()).append(": ").append(p.description()).append('\n');
            }
        }
        out.append("peers:\n");
        for (PeerSpec p : Peers.all()) {
            out.append("  ").append(p.name()).append(": ").append(p.description())
                    .append(p.unavailableReason().map(r -> " (unavailable: " + r + ")").orElse("")).append('\n');
        }
        for (String p : NativeFloor.PEERS) {
            out.append("  ").append(p).append(": bench/native/floor.c against ").append(p.substring(2))
                    .append(", no JVM (" + String.join(", ", NativeFloor.WORKLOADS) + " only)")
                    .append(NativeFloor.unavailableReason(args.nativeDir(), p).map(r -> " (unavailable: " + r + ")")
                            .orElse(""))
                    .append('\n');
        }
        return out.toString();
    }
}
