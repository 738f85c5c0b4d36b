package dev.cairn.bench.stress;

import dev.cairn.bench.peer.PeerSpec;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run as one SVG picture: per workload, a row of horizontal bars for median time and one for RSS added, a bar
 * per peer, coloured by family (Cairn, native through FFM, native C, other JVM). Times go on a log scale of the
 * ratio to the fastest peer (peers here differ by up to 50x; on a linear scale the fast ones would all be slivers);
 * RSS is linear. Plain SVG written here: no
 * charting library, nothing to load, and it renders in any browser and on GitHub.
 */
final class SvgChart {
    private static final int WIDTH = 980;
    private static final int LABEL = 130;
    private static final int PANEL = 360;
    private static final int GAP = 60;
    private static final int ROW = 18;
    /** An RSS bar this many times the next largest is cut. */
    private static final double OUTLIER = 4;
    /** The fastest peer's time bar (1x on the log scale) still shows. */
    private static final double MIN_BAR = 6;
    private static final Map<PeerSpec.Family, String> COLOURS = Map.of(PeerSpec.Family.CAIRN, "#d95f02",
            PeerSpec.Family.NATIVE_FFM, "#1b9e77", PeerSpec.Family.NATIVE_C, "#7570b3", PeerSpec.Family.JVM,
            "#8c8c8c");

    private SvgChart() {
    }

    static String render(RunInfo info, List<String> workloads, List<Cell> cells) {
        StringBuilder body = new StringBuilder();
        int y = 70;
        for (String workload : workloads) {
            List<Cell> rows = cells.stream().filter(c -> c.workload().equals(workload)).toList();
            if (!rows.isEmpty()) {
                y = workload(body, workload, rows, y) + 16;
            }
        }
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                .append(y).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(y)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        text(svg, 10, 20, "Cairn stress benchmarks: median time and RSS added, per workload and peer", 15, "bold");
        text(svg, 10, 38, info.cpu() + ", " + info.cpus() + " CPUs, " + info.java() + ", preset " + info.preset(),
                11, "normal");
        legend(svg, 10, 56);
        return svg.append(body).append("</svg>\n").toString();
    }

    private static void legend(StringBuilder svg, int x, int y) {
        int at = x;
        for (PeerSpec.Family family : PeerSpec.Family.values()) {
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>%n",
                    at, y - 10, COLOURS.get(family)));
            String name = switch (family) {
                case CAIRN -> "Cairn";
                case NATIVE_FFM -> "native allocator through FFM";
                case NATIVE_C -> "native C program (no JVM)";
                case JVM -> "other JVM allocators";
            };
            text(svg, at + 16, y, name, 11, "normal");
            at += 30 + name.length() * 7;
        }
    }

    /** Draws one workload's two panels from {@code top}; returns the y below them. */
    private static int workload(StringBuilder svg, String workload, List<Cell> rows, int top) {
        text(svg, 10, top + 12, workload + " (" + rows.getFirst().threads() + " thread"
                + (rows.getFirst().threads() == 1 ? "" : "s") + ")", 13, "bold");
        int panelTop = top + 20;
        int left = LABEL + 10;
        int right = left + PANEL + GAP;
        text(svg, left, panelTop + 10, "median time, ms; log scale, x = times the fastest", 11, "normal");
        text(svg, right, panelTop + 10, "RSS added (peak minus idle), MiB", 11, "normal");
        double best = rows.stream().filter(Cell::ok).mapToDouble(Cell::medianMillis).min().orElse(1);
        double worstRatio = rows.stream().filter(Cell::ok).mapToDouble(c -> c.medianMillis() / best).max().orElse(1);
        double octaves = Math.max(2, Math.ceil(Math.log(worstRatio) / Math.log(2))); // at least 1x..4x
        double rssScale = rssScale(rows.stream().filter(Cell::ok).mapToDouble(Cell::addedRssMib).toArray());
        int y = panelTop + 16;
        for (Cell cell : rows) {
            text(svg, 10, y + 13, cell.peer(), 12, cell.family() == PeerSpec.Family.CAIRN ? "bold" : "normal");
            if (cell.ok()) {
                double ratio = cell.medianMillis() / best;
                double width = MIN_BAR + Math.log(ratio) / Math.log(2) / octaves * (PANEL - 110 - MIN_BAR);
                bar(svg, left, y, width, cell.family(), String.format(Locale.ROOT, "%.1f ms (%.1fx)",
                        cell.medianMillis(), ratio), false);
                double rss = cell.addedRssMib();
                boolean cut = rss > rssScale;
                bar(svg, right, y, Math.max(1, Math.min(rss, rssScale) / rssScale * (PANEL - 110)), cell.family(),
                        String.format(Locale.ROOT, "%.1f", rss) + (cut ? " (bar cut)" : ""), cut);
            } else {
                text(svg, left, y + 13, cell.skipped() ? "skipped (not available here)" : "failed", 11, "italic");
            }
            y += ROW;
        }
        return y;
    }

    /**
     * The RSS a full-width bar stands for: the largest, unless it is more than {@value #OUTLIER} times the next
     * largest; then that one bar is cut at twice the next largest, so one outlier does not flatten the others.
     */
    static double rssScale(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        if (sorted.length == 0 || sorted[sorted.length - 1] <= 0) {
            return 1;
        }
        double max = sorted[sorted.length - 1];
        double next = sorted.length > 1 ? sorted[sorted.length - 2] : max;
        return next > 0 && max > OUTLIER * next ? 2 * next : max;
    }

    private static void bar(StringBuilder svg, int x, int y, double width, PeerSpec.Family family, String label,
            boolean cut) {
        svg.append(String.format(Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s</title></rect>%n",
                x, y + 3, width, ROW - 5, COLOURS.get(family), escape(label)));
        if (cut) { // a white break near the end: the bar is longer than drawn
            svg.append(String.format(Locale.ROOT, "<path d=\"M%.1f %d l6 -%d M%.1f %d l6 -%d\" stroke=\"white\" "
                    + "stroke-width=\"2\"/>%n", x + width - 16, y + ROW - 2, ROW - 5, x + width - 11, y + ROW - 2,
                    ROW - 5));
        }
        text(svg, (int) (x + width + 4), y + 13, label, 11, "normal");
    }

    private static void text(StringBuilder svg, int x, int y, String text, int size, String style) {
        String weight = style.equals("bold") ? " font-weight=\"bold\"" : "";
        String slant = style.equals("italic") ? " font-style=\"italic\"" : "";
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"%d\"%s%s>%s</text>%n", x, y, size,
                weight, slant, escape(text)));
    }

    /** Text content escaped for XML. */
    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
