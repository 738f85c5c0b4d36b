package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.inspect.Value.Bytes;
import dev.cairn.tools.inspect.Value.Ratio;
import java.util.List;

/** {@code bins}: per size class: pages, blocks in use and free, fill ratio, bytes in use and committed. */
final class BinsCommand {

    private BinsCommand() {
    }

    static Report run(HeapDump dump, Options options) {
        Totals t = new Totals(dump);
        Report report = new Report();
        List<Report> rows = report.table("bins");
        for (int s = 1; s <= t.bins; s++) {
            int slot = s % t.bins; // size classes in order, huge blocks last
            if (t.binPages[slot] == 0) {
                continue;
            }
            long free = t.binReservedBlocks[slot] - t.binLiveBlocks[slot];
            rows.add(new Report().put("bin", slot - 1).put("blockSize", t.binName(slot)).put("pages", t.binPages[slot])
                    .put("blocksInUse", t.binLiveBlocks[slot]).put("blocksFree", free)
                    .put("fill", new Ratio(Totals.ratio(t.binLiveBlocks[slot], t.binReservedBlocks[slot])))
                    .put("bytesInUse", new Bytes(t.binLiveBytes[slot]))
                    .put("pageBytes", new Bytes(t.binAreaBytes[slot])));
        }
        return report;
    }
}
