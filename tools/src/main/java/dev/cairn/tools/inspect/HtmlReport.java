package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.PageInfo;
import dev.cairn.tools.heapdump.SegmentInfo;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code html}: one self-contained page (inline CSS and script, nothing fetched): the address space (a strip per
 * segment, a cell per page coloured by how full it is), and the summary, size-class, segment, thread, site and
 * validation tables, and, for a runtime's dump (one with an OBJECTS section), the live objects per type as the
 * {@code objects} command ranks them. Clicking a size class (in the table or on a cell) highlights its pages; so
 * does opening the page with {@code #bin=N}.
 *
 * <p>Stable hooks for tests and scripts: {@code #summary}, {@code #address-space}, {@code .segment-strip},
 * {@code .page-cell[data-bin]}, {@code #bins .bin-row[data-bin]}, {@code #bin-detail}, {@code #segments},
 * {@code #threads}, {@code #sites}, {@code #objects .object-row[data-type]} (runtime dumps only),
 * {@code #validate}.
 */
final class HtmlReport {

    /**
     * Cells drawn per segment strip. Real segments have at most 4,096 pages (256 MiB of 64 KiB pages); a corrupt
     * dump could claim billions, so past this only the pages that are in the dump are drawn.
     */
    static final int MAX_CELLS_PER_STRIP = 4096;

    private static final String STYLE = """
            body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
            h1{font-size:20px}h2{font-size:16px;margin-top:24px}
            table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
            th{background:#f0f0f0}.bin-row{cursor:pointer}.bin-row.selected{background:#ffe9a8}
            .segment-strip{margin:4px 0}.strip-label{font-family:monospace;font-size:11px}
            .cells{display:flex;flex-wrap:wrap;gap:1px;max-width:1100px}
            .page-cell{width:8px;height:14px;border:1px solid #bbb;box-sizing:border-box;cursor:pointer}
            .page-cell.huge{width:120px}.page-cell.used{border-color:#246}
            .page-cell.pending{background:#aaa}.page-cell.purged{background:#e4e4e4}.page-cell.free{background:#fff}
            .page-cell.dim{opacity:.15}.legend span{display:inline-block;margin-right:12px}
            .swatch{display:inline-block;width:10px;height:10px;border:1px solid #888;margin-right:3px}
            #bin-detail{font-weight:bold;min-height:1.4em}.bad{color:#b00}
            .kv{display:inline-block;vertical-align:top;margin-right:24px}
            """;

    private static final String SCRIPT = """
            function selectBin(bin){
              const now = document.body.dataset.selected === bin ? '' : bin;
              document.body.dataset.selected = now;
              let pages = 0;
              document.querySelectorAll('.page-cell').forEach(c => {
                const match = c.dataset.bin === now; if (match) pages++;
                c.classList.toggle('dim', now !== '' && !match);
              });
              document.querySelectorAll('.bin-row').forEach(r => r.classList.toggle('selected', r.dataset.bin === now));
              const row = document.querySelector('.bin-row[data-bin="' + now + '"]');
              document.getElementById('bin-detail').textContent = now === '' ? '' :
                'size class ' + now + (row ? ' (' + row.dataset.size + ' bytes)' : '') + ': ' + pages
                + ' pages highlighted';
            }
            document.querySelectorAll('.bin-row').forEach(r =>
              r.addEventListener('click', () => selectBin(r.dataset.bin)));
            document.querySelectorAll('.page-cell[data-bin]').forEach(c =>
              c.addEventListener('click', () => selectBin(c.dataset.bin)));
            const linked = /^#bin=(-?[0-9]+)$/.exec(location.hash); // a link can open with a size class selected
            if (linked) selectBin(linked[1]);
            """;

    private HtmlReport() {
    }

    static String render(HeapDump dump, Options options) {
        StringBuilder out = new StringBuilder(64 * 1024);
        out.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cairn heap dump ")
                .append(esc(dump.path().getFileName().toString())).append("</title><style>").append(STYLE)
                .append("</style></head><body>\n<h1>Cairn heap dump</h1>\n");
        Report summary = SummaryCommand.run(dump, options);
        out.append("<section id=\"summary\"><h2>Summary</h2>");
        for (String part : new String[] {"dump", "totals", "fragmentation"}) {
            keyValues(out, part, (Report) summary.get(part));
        }
        out.append("</section>\n");
        addressSpace(out, dump);
        out.append("<section id=\"bins\"><h2>Size classes</h2><div id=\"bin-detail\"></div>");
        @SuppressWarnings("unchecked")
        List<Report> bins = (List<Report>) BinsCommand.run(dump, options).get("bins");
        table(out, bins, row -> "<tr class=\"bin-row\" data-bin=\"" + row.get("bin") + "\" data-size=\""
                + esc(String.valueOf(row.get("blockSize"))) + "\">");
        out.append("</section>\n");
        section(out, "segments", "Segments", (List<?>) SegmentsCommand.run(dump, options).get("segments"));
        section(out, "threads", "Heaps and threads", (List<?>) ThreadsCommand.run(dump, options).get("heaps"));
        section(out, "sites", "Allocation sites", (List<?>) SitesCommand.run(dump, options).get("sites"));
        objects(out, dump, options);
        Report validate = ValidateCommand.run(dump, options);
        out.append("<section id=\"validate\"><h2>Validation</h2><p").append(
                ((Integer) validate.get("violationCount")) == 0 ? ">" : " class=\"bad\">")
                .append(esc(validate.get("violationCount") + " violations; " + validate.get("consistency")))
                .append("</p>");
        table(out, (List<?>) validate.get("violations"), row -> "<tr>");
        out.append("</section>\n<script>").append(SCRIPT).append("</script>\n</body></html>\n");
        return out.toString();
    }

    /**
     * The {@code objects} command's report (totals, then a row per type, most bytes first), so the page and the
     * command never disagree. An allocator's dump has no OBJECTS section and gets no part: saying "no objects" there
     * would read as an empty runtime.
     */
    private static void objects(StringBuilder out, HeapDump dump, Options options) {
        if (dump.objects().isEmpty()) {
            return;
        }
        // --type switches the command to one type's records; the page always shows the table of types
        Options byType = new Options(options.dump(), "objects", null, null, null, null, options.live(),
                options.contents(), false, options.debug(), options.top(), options.limit());
        Report report = ObjectsCommand.run(dump, byType);
        Report totals = new Report();
        report.entries().forEach((key, value) -> {
            if (!(value instanceof List<?>) && !key.equals("present")) {
                totals.put(key, value);
            }
        });
        out.append("<section id=\"objects\"><h2>Objects</h2>");
        keyValues(out, "runtime", totals);
        table(out, (List<?>) report.get("byType"), row -> "<tr class=\"object-row\" data-type=\""
                + esc(String.valueOf(row.get("type"))) + "\">");
        out.append("</section>\n");
    }

    private static void addressSpace(StringBuilder out, HeapDump dump) {
        out.append("<section id=\"address-space\"><h2>Address space</h2><p class=\"legend\">")
                .append("<span><i class=\"swatch\" style=\"background:").append(fillColour(0.05))
                .append("\"></i>page, nearly empty</span><span><i class=\"swatch\" style=\"background:")
                .append(fillColour(1)).append("\"></i>page, full</span>")
                .append("<span><i class=\"swatch\" style=\"background:#aaa\"></i>retired, purge pending</span>")
                .append("<span><i class=\"swatch\" style=\"background:#e4e4e4\"></i>retired, purged</span>")
                .append("<span><i class=\"swatch\" style=\"background:#fff\"></i>not committed</span></p>\n");
        List<PageInfo> pages = dump.pages();
        int next = 0;
        for (SegmentInfo s : dump.segments()) {
            out.append("<div class=\"segment-strip\" data-base=\"0x").append(Long.toHexString(s.base()))
                    .append("\"><div class=\"strip-label\">0x").append(Long.toHexString(s.base())).append(' ')
                    .append(s.kindName()).append(' ').append(new Value.Bytes(s.size()).text()).append(" heap ")
                    .append(s.heapId()).append(s.abandoned() ? " abandoned" : "").append("</div><div class=\"cells\">");
            int from = s.huge() ? 0 : Math.min(s.firstPage(), s.pageCount());
            boolean sparse = s.pageCount() - from > MAX_CELLS_PER_STRIP;
            for (int index = from; index < s.pageCount(); index++) {
                if (sparse) { // only the dump's pages of this segment: jump to the next one
                    while (next < pages.size() && pages.get(next).segment() < s.ordinal()) {
                        next++;
                    }
                    if (next >= pages.size() || pages.get(next).segment() != s.ordinal()) {
                        break;
                    }
                    index = Math.max(index, pages.get(next).index());
                }
                while (next < pages.size() && pages.get(next).segment() < s.ordinal()) {
                    next++;
                }
                PageInfo page = next < pages.size() && pages.get(next).segment() == s.ordinal()
                        && pages.get(next).index() == index ? pages.get(next++) : null;
                cell(out, s, index, page);
            }
            out.append("</div></div>\n");
        }
        out.append("</section>\n");
    }

    private static void cell(StringBuilder out, SegmentInfo s, int index, PageInfo page) {
        String huge = s.huge() ? " huge" : "";
        if (page != null) {
            double fill = Totals.ratio(page.liveBlocks(), Math.max(1, page.reserved()));
            out.append("<div class=\"page-cell used").append(huge).append("\" data-bin=\"").append(page.bin())
                    .append("\" data-fill=\"").append(String.format(Locale.ROOT, "%.3f", fill))
                    .append("\" style=\"background:").append(fillColour(fill)).append("\" title=\"page ").append(index)
                    .append(", ").append(page.huge() ? "huge block" : "blocks of " + page.blockSize())
                    .append(": ").append(page.liveBlocks()).append('/').append(page.reserved())
                    .append(" live\"></div>");
            return;
        }
        long offset = s.huge() ? 0 : Math.max((long) index << s.pageShift(), s.metadataSize());
        String state = contains(s.pendingPurge(), offset) ? "pending" : contains(s.purged(), offset) ? "purged"
                : "free";
        out.append("<div class=\"page-cell ").append(state).append(huge).append("\" title=\"page ").append(index)
                .append(": ").append(state).append("\"></div>");
    }

    private static boolean contains(long[] ranges, long offset) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (offset >= ranges[i] && offset < ranges[i] + ranges[i + 1]) {
                return true;
            }
        }
        return false;
    }

    /** Light blue for nearly empty pages to dark blue for full ones. */
    private static String fillColour(double fill) {
        return String.format(Locale.ROOT, "hsl(210,70%%,%.0f%%)", 88 - 58 * Math.max(0, Math.min(1, fill)));
    }

    private static void keyValues(StringBuilder out, String title, Report report) {
        out.append("<div class=\"kv\"><h3>").append(esc(title)).append("</h3><table>");
        for (Map.Entry<String, Object> e : report.entries().entrySet()) {
            out.append("<tr><th>").append(esc(e.getKey())).append("</th><td>")
                    .append(esc(TextRenderer.text(e.getValue()))).append("</td></tr>");
        }
        out.append("</table></div>");
    }

    private static void section(StringBuilder out, String id, String title, List<?> rows) {
        out.append("<section id=\"").append(id).append("\"><h2>").append(esc(title)).append("</h2>");
        table(out, rows, row -> "<tr>");
        out.append("</section>\n");
    }

    /** A table of {@code rows} (reports with the same keys); {@code rowTag} opens each row with its hooks. */
    private static void table(StringBuilder out, List<?> rows, Function<Report, String> rowTag) {
        if (rows.isEmpty()) {
            out.append("<p>(none)</p>");
            return;
        }
        Report first = (Report) rows.getFirst();
        out.append("<table><tr>");
        first.entries().keySet().forEach(k -> out.append("<th>").append(esc(k)).append("</th>"));
        out.append("</tr>");
        for (Object o : rows) {
            Report row = (Report) o;
            out.append(rowTag.apply(row));
            for (String key : first.entries().keySet()) {
                out.append("<td>").append(esc(TextRenderer.text(row.get(key)))).append("</td>");
            }
            out.append("</tr>");
        }
        out.append("</table>");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
