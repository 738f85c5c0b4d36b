package dev.cairn.tools.heapdump;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.AbstractList;
import java.util.List;

/**
 * The OBJECTS section of a runtime's dump ({@code docs/heap-dump-format.md}, "OBJECTS"): the type table, parsed,
 * and the object records, read from the mapping on demand (a dump of millions of objects costs no Java heap per
 * object). Every record was proven by {@link ObjectsParser} when the dump was opened: in the section, in address
 * order, its type index in the table.
 */
public final class ObjectsSection {

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final long interpreterId;
    private final int interpreterSlot;
    private final int interpreters;
    private final List<ObjectType> types;
    private final MemorySegment file;
    /** File offset of the first object record, the records' stride and their number. */
    private final long recordsOffset;
    private final int recordSize;
    private final int count;

    ObjectsSection(long interpreterId, int interpreterSlot, int interpreters, List<ObjectType> types,
            MemorySegment file, long recordsOffset, int recordSize, int count) {
        this.interpreterId = interpreterId;
        this.interpreterSlot = interpreterSlot;
        this.interpreters = interpreters;
        this.types = List.copyOf(types);
        this.file = file;
        this.recordsOffset = recordsOffset;
        this.recordSize = recordSize;
        this.count = count;
    }

    /** The record at file offset {@code at}; the caller has proven its fixed part lies in the section. */
    static ObjectRecord decode(MemorySegment file, long at) {
        return new ObjectRecord(file.get(U64, at), file.get(U64, at + 8), file.get(U64, at + 16),
                file.get(U64, at + 24), file.get(U32, at + 32), file.get(U32, at + 36), file.get(U32, at + 40),
                file.get(ValueLayout.JAVA_BYTE, at + 44) & 0xFF, file.get(ValueLayout.JAVA_BYTE, at + 45) & 0xFF);
    }

    /** The interpreter that took the dump. */
    public long interpreterId() {
        return interpreterId;
    }

    public int interpreterSlot() {
        return interpreterSlot;
    }

    /** How many interpreters used the dumped allocator (all were stopped for the dump). */
    public int interpreters() {
        return interpreters;
    }

    /** The type table, by address. */
    public List<ObjectType> types() {
        return types;
    }

    /** The objects, by address (a view over the mapping: valid until the dump is closed). */
    public List<ObjectRecord> objects() {
        return new AbstractList<>() {
            @Override
            public ObjectRecord get(int index) {
                if (index < 0 || index >= count) {
                    throw new IndexOutOfBoundsException(index);
                }
                return decode(file, recordsOffset + (long) index * recordSize);
            }

            @Override
            public int size() {
                return count;
            }
        };
    }

    public ObjectType typeOf(ObjectRecord object) {
        return types.get(object.typeIndex());
    }

    /** The type whose type object is at {@code address}, or null. */
    public ObjectType typeAt(long address) {
        int index = indexOf(types.size(), i -> types.get(i).address(), address);
        return index < 0 ? null : types.get(index);
    }

    /** The object at {@code address}, or null. */
    public ObjectRecord objectAt(long address) {
        int index = indexOf(count, i -> file.get(U64, recordsOffset + (long) i * recordSize), address);
        return index < 0 ? null : objects().get(index);
    }

    /** Binary search over {@code n} addresses in ascending unsigned order (both tables are sorted); -1 if absent. */
    private static int indexOf(int n, java.util.function.IntToLongFunction addressAt, long address) {
        int lo = 0;
        int hi = n - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int order = Long.compareUnsigned(addressAt.applyAsLong(mid), address);
            if (order == 0) {
                return mid;
            }
            if (order < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return -1;
    }

    /**
     * The object's reference count, as the runtime would answer: its header's ({@link ObjectRecord#headerRefcount})
     * plus, for a heap type, the references its threads hold unmerged. -1 when immortal.
     */
    public long refcount(ObjectRecord object) {
        long header = object.headerRefcount();
        if (header < 0 || (object.flags() & DumpFormat.OBJECT_HEAP_TYPE) == 0) {
            return header;
        }
        ObjectType self = typeAt(object.address());
        return header + (self == null ? 0 : self.threadReferences());
    }
}
