package dev.cairn.bench.stress;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The whole run as one JSON document: the run's facts, then one object per (workload, peer) with raw times. */
final class JsonReport {
    private JsonReport() {
    }

    static String render(RunInfo info, List<Cell> cells) {
        StringBuilder out = new StringBuilder("{\n  \"run\": {");
        out.append("\"started\": ").append(str(info.started().toString()))
                .append(", \"command\": ").append(str(info.command()))
                .append(", \"preset\": ").append(str(info.preset()))
                .append(", \"cpu\": ").append(str(info.cpu()))
                .append(", \"cpus\": ").append(info.cpus())
                .append(", \"java\": ").append(str(info.java())).append("},\n  \"results\": [");
        boolean first = true;
        for (String workload : cells.stream().map(Cell::workload).distinct().toList()) {
            List<Cell> rows = cells.stream().filter(c -> c.workload().equals(workload)).toList();
            Optional<Cell> best = Ratios.best(rows);
            Optional<Cell> mimalloc = Ratios.mimallocReference(rows);
            for (Cell c : rows) {
                out.append(first ? "\n    " : ",\n    ");
                first = false;
                cell(out, c, best, mimalloc);
            }
        }
        return out.append("\n  ]\n}\n").toString();
    }

    private static void cell(StringBuilder out, Cell c, Optional<Cell> best, Optional<Cell> mimalloc) {
        out.append("{\"workload\": ").append(str(c.workload())).append(", \"peer\": ").append(str(c.peer()))
                .append(", \"family\": ").append(str(c.family().name())).append(", \"threads\": ").append(c.threads())
                .append(", \"status\": ").append(str(c.ok() ? "ok" : c.skipped() ? "skipped" : "failed"));
        if (c.ok()) {
            out.append(", \"params\": ").append(str(c.params()))
                    .append(", \"operations\": ").append(c.operations())
                    .append(", \"medianMs\": ").append(num(c.medianMillis()))
                    .append(", \"minMs\": ").append(num(c.minMillis()))
                    .append(", \"maxMs\": ").append(num(c.maxMillis()))
                    .append(", \"mops\": ").append(num(c.mopsPerSecond()))
                    .append(", \"peakRssMiB\": ").append(num(c.peakRssMib()))
                    .append(", \"idleRssMiB\": ").append(num(c.idleRssMib()))
                    .append(", \"addedRssMiB\": ").append(num(c.addedRssMib()))
                    .append(", \"ratioBest\": ").append(ratio(Ratios.format(Ratios.ratio(c, best))))
                    .append(", \"ratioMimalloc\": ").append(ratio(Ratios.format(Ratios.ratio(c, mimalloc))))
                    .append(", \"timesNs\": ").append(c.times());
        } else {
            out.append(", \"error\": ").append(str(c.error()));
        }
        out.append('}');
    }

    private static String ratio(String formatted) {
        return formatted.isEmpty() ? "null" : formatted;
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped. */
    static String str(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        out.append(ch);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
