package dev.cairn.tools.heapdump;

/**
 * One live object of the OBJECTS section: the header fields as the runtime stored them
 * ({@code docs/heap-dump-format.md}, "OBJECTS").
 *
 * @param size usable bytes of the object's block
 * @param ownerThreadId the thread state the object is biased to; 0 when merged, immortal or a heap type
 * @param sharedWord the shared count shifted left by two, with {@link DumpFormat#SHARED_QUEUED} or
 *                   {@link DumpFormat#SHARED_MERGED} in the low bits
 * @param localCount the owner's count as stored (unsigned; {@link DumpFormat#IMMORTAL_LOCAL} means immortal)
 * @param typeIndex the object's row in {@link ObjectsSection#types()}
 * @param interpreterSlot the interpreter the object belongs to (0: a runtime immortal)
 * @param flags {@link DumpFormat#OBJECT_IMMORTAL}, {@link DumpFormat#OBJECT_HEAP_TYPE}
 * @param gcBits {@link DumpFormat#OBJECT_GC_TRACKED}
 */
public record ObjectRecord(long address, long size, long ownerThreadId, long sharedWord, int localCount,
        int typeIndex, int interpreterSlot, int flags, int gcBits) {

    /** Never counted: the immortal flag, or a local count that overflowed to the immortal value. */
    public boolean immortal() {
        return localCount == DumpFormat.IMMORTAL_LOCAL || (flags & DumpFormat.OBJECT_IMMORTAL) != 0;
    }

    public long sharedCount() {
        return sharedWord >> 2;
    }

    public boolean queued() {
        return (sharedWord & 3) == DumpFormat.SHARED_QUEUED;
    }

    public boolean merged() {
        return (sharedWord & 3) == DumpFormat.SHARED_MERGED;
    }

    public long local() {
        return Integer.toUnsignedLong(localCount);
    }

    /**
     * The count in the object's header, as the runtime's {@code Ref.refcount} gives it: local plus shared, less the
     * reference a queued object's queue holds; -1 when immortal. A heap type's threads hold more
     * ({@link ObjectsSection#refcount}).
     */
    public long headerRefcount() {
        if (immortal()) {
            return -1;
        }
        return local() + sharedCount() - (queued() ? 1 : 0);
    }

    /** "owned" (biased to its owner), "queued", "merged" or "immortal". */
    public String state() {
        return immortal() ? "immortal" : queued() ? "queued" : merged() ? "merged" : "owned";
    }
}
