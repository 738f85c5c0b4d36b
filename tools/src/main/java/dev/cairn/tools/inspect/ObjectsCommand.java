package dev.cairn.tools.inspect;

import static dev.cairn.tools.heapdump.DumpFormat.OBJECT_GC_TRACKED;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.ObjectRecord;
import dev.cairn.tools.heapdump.ObjectsSection;
import dev.cairn.tools.inspect.Value.Bytes;
import dev.cairn.tools.inspect.Value.Hex;
import dev.cairn.tools.inspect.Value.Ratio;
import java.util.List;

/**
 * {@code objects}: the runtime's live objects per type (objects, bytes, immortal ones, reference counts), most bytes
 * first; {@code --type NAME} lists the objects of one type with their header fields instead. Needs a dump taken by
 * the runtime ({@code Interpreter.dumpHeap}, {@code Runtime.dumpHeap}); on an allocator's dump it says there are none.
 */
final class ObjectsCommand {

    private ObjectsCommand() {
    }

    static Report run(HeapDump dump, Options options) {
        Report report = new Report();
        if (dump.objects().isEmpty()) {
            return report.put("present", false).put("objects", "none: no OBJECTS section in this dump (an interpreter's"
                    + " dump has one: Interpreter.dumpHeap)");
        }
        ObjectsSection section = dump.objects().get();
        ObjectTotals totals = new ObjectTotals(section);
        report.put("present", true).put("interpreter", section.interpreterId())
                .put("interpreterSlot", section.interpreterSlot())
                .put("interpretersOnAllocator", section.interpreters());
        if (options.type() != null) {
            return ofType(section, totals, options, report);
        }
        List<ObjectTotals.Row> ranked = totals.ranked();
        report.put("objects", totals.objects).put("bytes", new Bytes(totals.bytes)).put("immortal", totals.immortal)
                .put("refs", totals.refs).put("types", ranked.size());
        List<Report> rows = report.table("byType");
        for (ObjectTotals.Row row : ranked) {
            if (rows.size() == options.top()) {
                break;
            }
            rows.add(new Report().put("type", row.type).put("kind", row.kind).put("heapType", row.heapType)
                    .put("objects", row.objects).put("bytes", new Bytes(row.bytes))
                    .put("ofBytes", new Ratio(Totals.ratio(row.bytes, totals.bytes))).put("immortal", row.immortal)
                    .put("refs", row.refs));
        }
        return report;
    }

    private static Report ofType(ObjectsSection section, ObjectTotals totals, Options options, Report report) {
        String name = options.type();
        ObjectTotals.Row row = totals.rows.get(name);
        report.put("type", name);
        if (row == null) {
            report.put("note", "no type named '" + name + "' in this dump");
        } else {
            report.put("kind", row.kind).put("heapType", row.heapType).put("objects", row.objects)
                    .put("bytes", new Bytes(row.bytes)).put("immortal", row.immortal).put("refs", row.refs);
        }
        report.put("matching", 0L).put("shown", 0); // placed before the list; filled in below
        List<Report> rows = report.table("records");
        long matching = 0;
        for (ObjectRecord object : section.objects()) {
            if (!section.typeOf(object).name().equals(name)) {
                continue;
            }
            matching++;
            if (rows.size() < options.limit()) {
                long count = section.refcount(object);
                rows.add(new Report().put("address", new Hex(object.address())).put("size", object.size())
                        .put("refcount", count < 0 ? null : count)
                        .put("local", object.immortal() ? null : object.local())
                        .put("shared", object.immortal() ? null : object.sharedCount()).put("state", object.state())
                        .put("owner", object.ownerThreadId()).put("interpreterSlot", object.interpreterSlot())
                        .put("tracked", (object.gcBits() & OBJECT_GC_TRACKED) != 0));
            }
        }
        report.put("matching", matching).put("shown", rows.size());
        return report;
    }
}
