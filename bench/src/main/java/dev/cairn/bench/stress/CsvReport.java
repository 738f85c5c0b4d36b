package dev.cairn.bench.stress;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One CSV row per (workload, peer), RFC 4180 quoting; every repetition's time is kept in {@code times_ns}
 * (semicolon-separated) so nothing measured is lost to the summary.
 */
final class CsvReport {
    static final String HEADER = "workload,peer,family,threads,status,median_ms,min_ms,max_ms,spread_pct,mops,"
            + "peak_rss_mib,idle_rss_mib,added_rss_mib,ratio_best,ratio_mimalloc,operations,params,times_ns,error";

    private CsvReport() {
    }

    static String render(List<Cell> cells) {
        StringBuilder out = new StringBuilder(HEADER).append('\n');
        for (String workload : cells.stream().map(Cell::workload).distinct().toList()) {
            List<Cell> rows = cells.stream().filter(c -> c.workload().equals(workload)).toList();
            Optional<Cell> best = Ratios.best(rows);
            Optional<Cell> mimalloc = Ratios.mimallocReference(rows);
            for (Cell c : rows) {
                String status = c.ok() ? "ok" : c.skipped() ? "skipped" : "failed";
                out.append(String.join(",", quote(c.workload()), quote(c.peer()), c.family().name(),
                        Integer.toString(c.threads()), status, num(c.ok(), c.medianMillis()),
                        num(c.ok(), c.minMillis()), num(c.ok(), c.maxMillis()), num(c.ok(), c.spreadPercent()),
                        num(c.ok(), c.mopsPerSecond()), num(c.ok(), c.peakRssMib()), num(c.ok(), c.idleRssMib()),
                        num(c.ok(), c.addedRssMib()), Ratios.format(Ratios.ratio(c, best)),
                        Ratios.format(Ratios.ratio(c, mimalloc)), c.ok() ? Long.toString(c.operations()) : "",
                        quote(c.params()), c.times().stream().map(String::valueOf).collect(Collectors.joining(";")),
                        quote(c.error() == null ? "" : c.error()))).append('\n');
            }
        }
        return out.toString();
    }

    private static String num(boolean ok, double v) {
        return ok ? String.format(Locale.ROOT, "%.3f", v) : "";
    }

    /** A field quoted when it needs to be: commas, quotes or line breaks. */
    static String quote(String field) {
        if (field.contains(",") || field.contains("\"") || field.contains("\n") || field.contains("\r")) {
            return '"' + field.replace("\"", "\"\"") + '"';
        }
        return field;
    }
}
