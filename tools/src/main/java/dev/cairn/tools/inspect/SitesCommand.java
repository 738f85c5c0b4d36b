package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.Site;
import dev.cairn.tools.inspect.Value.Bytes;
import dev.cairn.tools.inspect.Value.Estimate;
import dev.cairn.tools.inspect.Value.Frames;
import java.util.List;

/**
 * {@code sites}: live bytes and blocks per sampled allocation site, most bytes first. Totals are estimates (the
 * sampled figures times the sampling rate) unless every allocation was sampled.
 */
final class SitesCommand {

    private SitesCommand() {
    }

    static Report run(HeapDump dump, Options options) {
        SiteTotals totals = new SiteTotals(dump);
        Report report = new Report();
        report.put("sampleRate", dump.sampleRate() == 0 ? "off (set AllocatorConfig.sampleRate or -Dcairn.sampleRate)"
                : "1 in " + dump.sampleRate());
        report.put("estimated", dump.sampleRate() > 1);
        report.put("samples", dump.samples().size()).put("staleSamples", totals.stale);
        List<Report> rows = report.table("sites");
        int[] ranked = totals.ranked();
        for (int i = 0; i < Math.min(options.top(), ranked.length); i++) {
            int id = ranked[i];
            Site site = dump.sites().get(id);
            rows.add(new Report().put("site", id).put("sampledBlocks", totals.blocks[id])
                    .put("sampledBytes", new Bytes(totals.bytes[id]))
                    .put("estimatedBlocks", new Estimate(totals.estimatedBlocks(id), false))
                    .put("estimatedBytes", new Estimate(totals.estimatedBytes(id), true))
                    .put("stack", new Frames(site.frames(), 3)));
        }
        return report;
    }
}
