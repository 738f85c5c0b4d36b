package dev.cairn.bench.stress;

import dev.cairn.bench.peer.PeerSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything measured for one (workload, peer): each fork's report, or the error that stopped it, or the reason the
 * peer could not run here. Summaries are medians over all repetitions of all forks (time) and over forks (RSS).
 *
 * @param workload the workload's name
 * @param peer the peer's name
 * @param family the peer's family (colours, "best JVM-callable")
 * @param threads threads the workload ran on
 * @param params the workload's parameters, {@code name=value ...}
 * @param reports one per fork that finished
 * @param error why it failed or was skipped; null when it ran
 * @param skipped true when the peer could not run here (not a failure)
 */
public record Cell(String workload, String peer, PeerSpec.Family family, int threads, String params,
        List<ChildReport> reports, String error, boolean skipped) {

    public Cell {
        reports = List.copyOf(reports);
    }

    static Cell skipped(String workload, String peer, PeerSpec.Family family, int threads, String reason) {
        return new Cell(workload, peer, family, threads, "", List.of(), reason, true);
    }

    public boolean ok() {
        return error == null && !reports.isEmpty();
    }

    public List<Long> times() {
        List<Long> all = new ArrayList<>();
        reports.forEach(r -> all.addAll(r.timesNanos()));
        return all;
    }

    public long operations() {
        return reports.isEmpty() ? 0 : reports.getFirst().operations();
    }

    public double medianMillis() {
        return Stats.median(times()) / 1e6;
    }

    public double minMillis() {
        return times().stream().mapToLong(Long::longValue).min().orElse(0) / 1e6;
    }

    public double maxMillis() {
        return times().stream().mapToLong(Long::longValue).max().orElse(0) / 1e6;
    }

    /** Half the range over the median, in percent: "± x%". */
    public double spreadPercent() {
        double median = medianMillis();
        return median == 0 ? 0 : (maxMillis() - minMillis()) / 2 / median * 100;
    }

    public double mopsPerSecond() {
        double median = medianMillis();
        return median == 0 ? 0 : operations() / (median * 1e3);
    }

    public double peakRssMib() {
        return Stats.median(reports.stream().map(ChildReport::peakRssBytes).toList()) / (1 << 20);
    }

    public double idleRssMib() {
        return Stats.median(reports.stream().map(ChildReport::idleRssBytes).toList()) / (1 << 20);
    }

    public double addedRssMib() {
        return Stats.median(reports.stream().map(ChildReport::addedRssBytes).toList()) / (1 << 20);
    }
}
