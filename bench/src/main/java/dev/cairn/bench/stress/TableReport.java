package dev.cairn.bench.stress;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The per-workload tables, as Markdown (readable in a terminal and pasteable into docs/benchmarks.md). Ratios are
 * median time over the best peer's and over mimalloc's: the C floor's ({@code c-mimalloc}) where the workload has
 * one, else mimalloc through FFM; "RSS added" is peak minus the same process's idle RSS.
 */
final class TableReport {
    private TableReport() {
    }

    static String render(List<String> workloads, List<Cell> cells) {
        StringBuilder out = new StringBuilder();
        for (String workload : workloads) {
            List<Cell> rows = cells.stream().filter(c -> c.workload().equals(workload)).toList();
            if (rows.isEmpty()) {
                continue;
            }
            Optional<Cell> best = Ratios.best(rows);
            Optional<Cell> mimalloc = Ratios.mimallocReference(rows);
            out.append("### ").append(workload).append(" (").append(threadsOf(rows)).append(")\n\n");
            out.append("| peer | median ms | spread | Mops/s | peak RSS MiB | RSS added MiB | x best | x ")
                    .append(mimalloc.map(Cell::peer).orElse("mimalloc")).append(" |\n");
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Cell cell : rows) {
                out.append(row(cell, best, mimalloc)).append('\n');
            }
            rows.stream().filter(Cell::ok).findFirst()
                    .ifPresent(c -> out.append("\nparameters: ").append(c.params()).append('\n'));
            out.append('\n');
        }
        return out.toString();
    }

    private static String threadsOf(List<Cell> rows) {
        int threads = rows.getFirst().threads();
        return threads == 1 ? "1 thread" : threads + " threads";
    }

    private static String row(Cell cell, Optional<Cell> best, Optional<Cell> mimalloc) {
        if (!cell.ok()) {
            return "| " + cell.peer() + " | " + (cell.skipped() ? "skipped: " : "FAILED: ")
                    + cell.error().replace('|', '/') + " | | | | | | |";
        }
        return String.format(Locale.ROOT, "| %s | %.1f | ±%.0f%% | %.2f | %.1f | %.1f | %s | %s |", cell.peer(),
                cell.medianMillis(), cell.spreadPercent(), cell.mopsPerSecond(), cell.peakRssMib(),
                cell.addedRssMib(), Ratios.format(Ratios.ratio(cell, best)),
                Ratios.format(Ratios.ratio(cell, mimalloc)));
    }
}
