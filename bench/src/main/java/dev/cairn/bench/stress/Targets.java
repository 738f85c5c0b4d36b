package dev.cairn.bench.stress;

import dev.cairn.bench.peer.PeerSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Issue 6's targets, checked against a run's cells, so that every run reports met or not met with its numbers
 * instead of leaving it to a reader. A target whose cells did not run (narrowed with --workload or --peer, a
 * library missing) says so.
 */
final class Targets {
    private static final List<String> SINGLE_THREADED = List.of("pairs", "batch", "sh6bench");
    private static final String CAIRN = "cairn-checked";

    private Targets() {
    }

    static String render(List<Cell> cells) {
        List<String> lines = new ArrayList<>();
        for (String workload : SINGLE_THREADED) {
            lines.add(fastest(cells, workload, "fastest JVM-callable allocator (FFM peers included) on " + workload));
        }
        lines.add(ratio(cells, "pairs", "glibc", 3.0, "at least 3x faster than glibc through FFM on pairs"));
        lines.add(ratio(cells, "pairs", "c-mimalloc", 1.0, "faster than native C mimalloc on pairs"));
        lines.add(ratio(cells, "batch", "c-mimalloc", 1.0, "faster than native C mimalloc on batch"));
        for (String workload : List.of("xmalloc", "larson")) {
            lines.add(fastest(cells, workload, "fastest on " + workload));
        }
        for (String workload : List.of("larson", "batch")) {
            lines.add(memory(cells, workload));
        }
        StringBuilder out = new StringBuilder("### targets of issue 6 (cairn-checked)\n\n");
        lines.forEach(line -> out.append("- ").append(line).append('\n'));
        return out.append('\n').toString();
    }

    private static Optional<Cell> cell(List<Cell> cells, String workload, String peer) {
        return cells.stream().filter(c -> c.ok() && c.workload().equals(workload) && c.peer().equals(peer))
                .findFirst();
    }

    /** Cairn checked against every JVM-callable peer that is not Cairn. */
    private static String fastest(List<Cell> cells, String workload, String goal) {
        Optional<Cell> cairn = cell(cells, workload, CAIRN);
        Optional<Cell> rival = cells.stream().filter(c -> c.ok() && c.workload().equals(workload)
                && c.family() != PeerSpec.Family.CAIRN && c.family() != PeerSpec.Family.NATIVE_C)
                .min(Comparator.comparingDouble(Cell::medianMillis));
        if (cairn.isEmpty() || rival.isEmpty()) {
            return goal + ": not measured in this run";
        }
        boolean met = cairn.get().medianMillis() < rival.get().medianMillis();
        return String.format(Locale.ROOT, "%s: %s (cairn-checked %.1f ms, fastest other %s %.1f ms)", goal,
                met ? "met" : "NOT met", cairn.get().medianMillis(), rival.get().peer(), rival.get().medianMillis());
    }

    /** Cairn checked at least {@code factor} times faster than {@code peer}. */
    private static String ratio(List<Cell> cells, String workload, String peer, double factor, String goal) {
        Optional<Cell> cairn = cell(cells, workload, CAIRN);
        Optional<Cell> other = cell(cells, workload, peer);
        if (cairn.isEmpty() || other.isEmpty()) {
            return goal + ": not measured in this run";
        }
        double speedup = other.get().medianMillis() / cairn.get().medianMillis();
        boolean met = factor == 1.0 ? speedup > 1.0 : speedup >= factor;
        return String.format(Locale.ROOT, "%s: %s (%.2fx: cairn-checked %.1f ms, %s %.1f ms)", goal,
                met ? "met" : "NOT met", speedup, cairn.get().medianMillis(), peer, other.get().medianMillis());
    }

    /** Cairn checked's RSS added within 1.25x of mimalloc's through FFM. */
    private static String memory(List<Cell> cells, String workload) {
        String goal = "RSS added within 1.25x of mimalloc through FFM on " + workload;
        Optional<Cell> cairn = cell(cells, workload, CAIRN);
        Optional<Cell> mimalloc = cell(cells, workload, "mimalloc");
        if (cairn.isEmpty() || mimalloc.isEmpty()) {
            return goal + ": not measured in this run";
        }
        double c = cairn.get().addedRssMib();
        double m = mimalloc.get().addedRssMib();
        boolean met = c <= 1.25 * m;
        return String.format(Locale.ROOT, "%s: %s (cairn-checked %.1f MiB, mimalloc %.1f MiB)", goal,
                met ? "met" : "NOT met", c, m);
    }
}
