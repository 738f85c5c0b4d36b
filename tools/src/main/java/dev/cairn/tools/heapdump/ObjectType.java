package dev.cairn.tools.heapdump;

/**
 * One row of the OBJECTS section's type table ({@code docs/heap-dump-format.md}, "OBJECTS").
 *
 * @param index position in the table: what object records refer to
 * @param address the type object's address (a static type's is in the main allocator, maybe not in this dump)
 * @param flags {@link DumpFormat#OBJECT_IMMORTAL} (a static type), {@link DumpFormat#OBJECT_HEAP_TYPE}
 * @param typeId a heap type's id in its interpreter; -1 for a static type
 * @param kind kind of its instances ({@link DumpFormat#OBJECT_KINDS})
 * @param interpreterSlot interpreter slot of the type object (0: a runtime immortal)
 * @param threadReferences for a heap type, the threads' references not yet merged into its shared count
 */
public record ObjectType(int index, long address, int flags, int typeId, int kind, int interpreterSlot,
        long threadReferences, String name) {

    public boolean immortal() {
        return (flags & DumpFormat.OBJECT_IMMORTAL) != 0;
    }

    public boolean heapType() {
        return (flags & DumpFormat.OBJECT_HEAP_TYPE) != 0;
    }

    public String kindName() {
        return kind > 0 && kind < DumpFormat.OBJECT_KINDS.length ? DumpFormat.OBJECT_KINDS[kind] : "kind " + kind;
    }
}
