package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.SegmentInfo;
import dev.cairn.tools.heapdump.Site;
import dev.cairn.tools.inspect.Value.Bytes;
import dev.cairn.tools.inspect.Value.Estimate;
import dev.cairn.tools.inspect.Value.Frames;
import dev.cairn.tools.inspect.Value.Hex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code diff A B}: growth from dump A to dump B per size class, per segment (by base address), per allocation
 * site (by stack: site ids are per dump) and, when both dumps carry the runtime's objects, per object type (by
 * name), largest growth first: what a leak hunt looks at.
 */
final class DiffCommand {

    private DiffCommand() {
    }

    static Report run(HeapDump a, HeapDump b, Options options) {
        Totals ta = new Totals(a);
        Totals tb = new Totals(b);
        Report report = new Report();
        report.put("from", a.path().toString()).put("to", b.path().toString())
                .put("bytesInUseGrowth", new Bytes(tb.liveBytes - ta.liveBytes))
                .put("blocksInUseGrowth", tb.liveBlocks - ta.liveBlocks)
                .put("committedGrowth", new Bytes(tb.committed - ta.committed));
        List<Report> bins = report.table("bins");
        List<long[]> binRows = new ArrayList<>();
        for (int s = 0; s < Math.max(ta.bins, tb.bins); s++) {
            long blocksA = s < ta.bins ? ta.binLiveBlocks[s] : 0;
            long blocksB = s < tb.bins ? tb.binLiveBlocks[s] : 0;
            long bytesA = s < ta.bins ? ta.binLiveBytes[s] : 0;
            long bytesB = s < tb.bins ? tb.binLiveBytes[s] : 0;
            if (blocksA != blocksB || bytesA != bytesB) {
                binRows.add(new long[] {s, blocksA, blocksB, bytesB - bytesA});
            }
        }
        binRows.sort((x, y) -> Long.compare(y[3], x[3]));
        for (long[] r : binRows) {
            int s = (int) r[0];
            String name = s < tb.bins && tb.binPages[s] > 0 ? tb.binName(s) : ta.binName(s);
            bins.add(new Report().put("bin", s - 1).put("blockSize", name).put("blocksBefore", r[1])
                    .put("blocksAfter", r[2]).put("blocksGrowth", r[2] - r[1]).put("bytesGrowth", new Bytes(r[3])));
        }
        segments(a, b, ta, tb, report.table("segments"), options.top());
        sites(a, b, report.table("sites"), options.top());
        if (a.objects().isPresent() && b.objects().isPresent()) {
            objectTypes(new ObjectTotals(a.objects().get()), new ObjectTotals(b.objects().get()), report,
                    options.top());
        } else {
            report.put("objectTypes", "not compared: " + (a.objects().isEmpty() && b.objects().isEmpty()
                    ? "neither dump has" : a.objects().isEmpty() ? "the first dump has no" : "the second dump has no")
                    + " OBJECTS section");
        }
        return report;
    }

    private static void objectTypes(ObjectTotals ta, ObjectTotals tb, Report report, int top) {
        report.put("objectsGrowth", tb.objects - ta.objects).put("objectBytesGrowth", new Bytes(tb.bytes - ta.bytes));
        Set<String> names = new LinkedHashSet<>(ta.rows.keySet());
        names.addAll(tb.rows.keySet());
        List<Report> rows = new ArrayList<>();
        List<Long> growth = new ArrayList<>();
        for (String name : names) {
            ObjectTotals.Row before = ta.rows.get(name);
            ObjectTotals.Row after = tb.rows.get(name);
            long objectsBefore = before == null ? 0 : before.objects;
            long objectsAfter = after == null ? 0 : after.objects;
            long bytesBefore = before == null ? 0 : before.bytes;
            long bytesAfter = after == null ? 0 : after.bytes;
            if (objectsBefore != objectsAfter || bytesBefore != bytesAfter) {
                rows.add(new Report().put("type", name).put("objectsBefore", objectsBefore)
                        .put("objectsAfter", objectsAfter).put("objectsGrowth", objectsAfter - objectsBefore)
                        .put("bytesGrowth", new Bytes(bytesAfter - bytesBefore)));
                growth.add(bytesAfter - bytesBefore);
            }
        }
        addRanked(rows, growth, report.table("objectTypes"), top);
    }

    private static void segments(HeapDump a, HeapDump b, Totals ta, Totals tb, List<Report> out, int top) {
        Map<Long, Long> before = new HashMap<>();
        for (SegmentInfo s : a.segments()) {
            before.put(s.base(), ta.segLiveBytes[s.ordinal()]);
        }
        List<Report> rows = new ArrayList<>();
        List<Long> growth = new ArrayList<>();
        for (SegmentInfo s : b.segments()) {
            Long old = before.remove(s.base());
            long now = tb.segLiveBytes[s.ordinal()];
            if (old == null || old != now) {
                rows.add(segmentRow(s.base(), old == null ? "new" : "kept", old == null ? 0 : old, now));
                growth.add(now - (old == null ? 0 : old));
            }
        }
        before.forEach((base, old) -> {
            rows.add(segmentRow(base, "gone", old, 0));
            growth.add(-old);
        });
        addRanked(rows, growth, out, top);
    }

    private static Report segmentRow(long base, String state, long before, long after) {
        return new Report().put("base", new Hex(base)).put("state", state).put("bytesBefore", new Bytes(before))
                .put("bytesAfter", new Bytes(after)).put("bytesGrowth", new Bytes(after - before));
    }

    private static void sites(HeapDump a, HeapDump b, List<Report> out, int top) {
        SiteTotals sa = new SiteTotals(a);
        SiteTotals sb = new SiteTotals(b);
        Map<String, long[]> byStack = new HashMap<>(); // stack → {estimated bytes before, after, site id in b or -1}
        Map<String, Site> stacks = new HashMap<>();
        for (Site site : a.sites()) {
            byStack.computeIfAbsent(site.key(), k -> new long[] {0, 0, -1})[0] += sa.estimatedBytes(site.id());
            stacks.putIfAbsent(site.key(), site);
        }
        for (Site site : b.sites()) {
            byStack.computeIfAbsent(site.key(), k -> new long[] {0, 0, -1})[1] += sb.estimatedBytes(site.id());
            stacks.put(site.key(), site);
        }
        List<Report> rows = new ArrayList<>();
        List<Long> growth = new ArrayList<>();
        byStack.forEach((key, v) -> {
            if (v[0] != v[1]) {
                rows.add(new Report().put("estimatedBytesBefore", new Estimate(v[0], true))
                        .put("estimatedBytesAfter", new Estimate(v[1], true))
                        .put("estimatedGrowth", new Estimate(v[1] - v[0], true))
                        .put("stack", new Frames(stacks.get(key).frames(), 3)));
                growth.add(v[1] - v[0]);
            }
        });
        addRanked(rows, growth, out, top);
    }

    private static void addRanked(List<Report> rows, List<Long> growth, List<Report> out, int top) {
        Integer[] order = new Integer[rows.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Long.compare(growth.get(y), growth.get(x)));
        for (int i = 0; i < Math.min(top, order.length); i++) {
            out.add(rows.get(order[i]));
        }
    }
}
