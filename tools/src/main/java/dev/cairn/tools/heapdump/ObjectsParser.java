package dev.cairn.tools.heapdump;

import static dev.cairn.tools.heapdump.DumpFormat.OBJECT_FIXED;
import static dev.cairn.tools.heapdump.DumpFormat.OBJECT_TYPE_FIXED;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the runtime's OBJECTS section ({@code docs/heap-dump-format.md}, "OBJECTS") under {@link DumpParser}'s
 * rules: every read bounded by the section, every count proven to fit before anything is allocated for it, types
 * and objects in strictly ascending address order, every object's type index inside the type table. Object records
 * are proven here once and then read from the mapping by {@link ObjectsSection}.
 */
final class ObjectsParser {

    private ObjectsParser() {
    }

    static ObjectsSection parse(DumpCursor in, MemorySegment file) throws DumpFormatException {
        long interpreterId = in.u64();
        int interpreterSlot = in.u32();
        int interpreters = in.u32();
        List<ObjectType> types = types(in);
        int count = in.count("object", OBJECT_FIXED);
        int fixed = DumpParser.fixedSize(in, OBJECT_FIXED);
        long first = in.position();
        long previous = 0;
        for (int i = 0; i < count; i++) {
            long at = in.position();
            in.skip(fixed);
            ObjectRecord object = ObjectsSection.decode(file, at);
            if (i > 0 && Long.compareUnsigned(object.address(), previous) <= 0) {
                throw in.error(at, "objects are not in address order at 0x" + Long.toHexString(object.address()));
            }
            if (Integer.toUnsignedLong(object.typeIndex()) >= types.size()) {
                throw in.error(at, "object 0x" + Long.toHexString(object.address()) + " refers to type "
                        + Integer.toUnsignedString(object.typeIndex()) + " of " + types.size());
            }
            if (object.size() <= 0) {
                throw in.error(at, "object 0x" + Long.toHexString(object.address()) + " has size " + object.size());
            }
            previous = object.address();
        }
        return new ObjectsSection(interpreterId, interpreterSlot, interpreters, types, file, first, fixed, count);
    }

    private static List<ObjectType> types(DumpCursor in) throws DumpFormatException {
        int count = in.count("type", OBJECT_TYPE_FIXED + 2);
        int fixed = DumpParser.fixedSize(in, OBJECT_TYPE_FIXED);
        List<ObjectType> types = new ArrayList<>(Math.min(count, 1 << 16));
        for (int index = 0; index < count; index++) {
            long at = in.position();
            long address = in.u64();
            int flags = in.u32();
            int typeId = in.u32();
            int kind = in.u32();
            int slot = in.u32();
            long threadReferences = in.u64();
            in.skip(fixed - OBJECT_TYPE_FIXED);
            String name = in.string();
            if (index > 0 && Long.compareUnsigned(address, types.getLast().address()) <= 0) {
                throw in.error(at, "types are not in address order at 0x" + Long.toHexString(address));
            }
            types.add(new ObjectType(index, address, flags, typeId, kind, slot, threadReferences, name));
        }
        return types;
    }
}
