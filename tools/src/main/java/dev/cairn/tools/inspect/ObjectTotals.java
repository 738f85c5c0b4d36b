package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.ObjectRecord;
import dev.cairn.tools.heapdump.ObjectType;
import dev.cairn.tools.heapdump.ObjectsSection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Live objects per type name, from the OBJECTS section. Rows are keyed by name, not by type address, so the same
 * type matches across two dumps ({@code diff}); every type of the table gets a row, so a heap type without
 * instances shows with 0. {@code refs} sums the reference counts of the mortal objects (a heap type's own count
 * includes its threads' unmerged references); immortal objects are counted apart and hold none.
 */
final class ObjectTotals {

    /** One type name's totals. */
    static final class Row {
        final String type;
        final String kind;
        final boolean heapType;
        long objects;
        long bytes;
        long immortal;
        long refs;

        Row(ObjectType type) {
            this.type = type.name();
            this.kind = type.kindName();
            this.heapType = type.heapType();
        }
    }

    final Map<String, Row> rows = new LinkedHashMap<>();
    long objects;
    long bytes;
    long immortal;
    long refs;

    ObjectTotals(ObjectsSection section) {
        Row[] byIndex = new Row[section.types().size()];
        for (ObjectType type : section.types()) {
            byIndex[type.index()] = rows.computeIfAbsent(type.name(), name -> new Row(type));
        }
        for (ObjectRecord object : section.objects()) {
            Row row = byIndex[object.typeIndex()];
            row.objects++;
            row.bytes += object.size();
            long count = section.refcount(object);
            if (count < 0) {
                row.immortal++;
            } else {
                row.refs += count;
            }
        }
        for (Row row : rows.values()) {
            objects += row.objects;
            bytes += row.bytes;
            immortal += row.immortal;
            refs += row.refs;
        }
    }

    /**
     * The rows worth showing, most bytes first, then most objects, then by name. A static type without instances
     * is left out (it is in the table only because its type object is one of the runtime's immortals); a heap type
     * without instances stays, since that is worth seeing.
     */
    List<Row> ranked() {
        List<Row> out = new ArrayList<>(rows.values());
        out.removeIf(row -> row.objects == 0 && !row.heapType);
        out.sort(Comparator.comparingLong((Row r) -> -r.bytes).thenComparingLong(r -> -r.objects)
                .thenComparing(r -> r.type));
        return out;
    }
}
