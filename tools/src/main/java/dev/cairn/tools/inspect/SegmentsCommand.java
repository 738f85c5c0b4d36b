package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.SegmentInfo;
import dev.cairn.tools.inspect.Value.Bytes;
import dev.cairn.tools.inspect.Value.Hex;
import dev.cairn.tools.inspect.Value.Ratio;
import java.util.List;

/** {@code segments}: one row per segment, with its owner, pages, memory and whether (and how long) abandoned. */
final class SegmentsCommand {

    private SegmentsCommand() {
    }

    static Report run(HeapDump dump, Options options) {
        Totals t = new Totals(dump);
        Report report = new Report();
        List<Report> rows = report.table("segments");
        for (SegmentInfo s : dump.segments()) {
            int o = s.ordinal();
            rows.add(new Report().put("base", new Hex(s.base())).put("kind", s.kindName())
                    .put("size", new Bytes(s.size()))
                    .put("heap", s.heapId()).put("ownerTid", s.ownerTid())
                    .put("pages", t.segPages[o] + "/" + (s.pageCount() - (s.huge() ? 0 : s.firstPage())))
                    .put("committed", new Bytes(s.committedBytes())).put("purged", new Bytes(s.purgedBytes()))
                    .put("inUse", new Bytes(t.segLiveBytes[o]))
                    .put("fill", new Ratio(Totals.ratio(t.segLiveBytes[o], t.segAreaBytes[o])))
                    .put("abandoned", s.abandoned())
                    .put("abandonedFor", s.abandoned() ? String.format(java.util.Locale.ROOT, "%.3f s",
                            s.abandonedNanos() / 1e9) : "-"));
        }
        List<Report> pool = report.table("abandonedPool");
        for (long base : dump.abandonedPool()) {
            pool.add(new Report().put("base", new Hex(base)));
        }
        return report;
    }
}
