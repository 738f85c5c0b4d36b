package dev.cairn.alloc.internal;

import dev.cairn.alloc.Allocator;

/** Test access to what the public API does not show: resident memory, pool membership, segment of a block. */
public final class Inspect {

    /** How long the registry waits between two scans for ended threads (see HeapRegistry). */
    public static final long REAP_INTERVAL_NANOS = HeapRegistry.REAP_INTERVAL_NANOS;

    private Inspect() {
    }

    /** Bytes of the allocator's segments resident in RAM ({@code mincore}), free of the JVM's own noise. */
    public static long residentBytes(Allocator allocator) {
        return ((AllocatorImpl) allocator).store().residentBytes();
    }

    /** Base of the segment holding {@code address}, or 0 when it is not this allocator's. */
    public static long segmentOf(Allocator allocator, long address) {
        return ((AllocatorImpl) allocator).store().segmentOf(address);
    }

    /** The thread id that owns the segment at {@code segmentBase}; 0 while it is abandoned. */
    public static long ownerTid(long segmentBase) {
        return dev.cairn.segments.raw.Raw.getLong(segmentBase + SegmentLayout.SEG_OWNER_TID);
    }

    public static boolean isAbandoned(Allocator allocator, long segmentBase) {
        return ((AllocatorImpl) allocator).pool().contains(segmentBase);
    }

    /** One line per live segment: kind, pages in use, heap, owner, pooled (for a failing test's message). */
    public static String describeSegments(Allocator allocator) {
        AllocatorImpl impl = (AllocatorImpl) allocator;
        StringBuilder out = new StringBuilder();
        impl.store().forEachSegment(base -> {
            int heapId = dev.cairn.segments.raw.Raw.getInt(base + SegmentLayout.SEG_HEAP_ID);
            HeapImpl heap = impl.heapById(heapId);
            out.append(String.format("seg 0x%x kind %d usedPages %d heap %d (%s) owner %d arena %d pooled %s%n", base,
                    dev.cairn.segments.raw.Raw.getInt(base + SegmentLayout.SEG_KIND),
                    dev.cairn.segments.raw.Raw.getInt(base + SegmentLayout.SEG_USED_PAGES), heapId,
                    heap == null ? "none" : heap.role() + " " + heap.threadName(),
                    dev.cairn.segments.raw.Raw.getLong(base + SegmentLayout.SEG_OWNER_TID),
                    dev.cairn.segments.raw.Raw.getInt(base + SegmentLayout.SEG_ARENA), impl.pool().contains(base)));
        });
        return out.toString();
    }

    /** Allocation-site samples held now (0 when sampling is off). */
    public static int sampleCount(Allocator allocator) {
        SiteSampler sites = ((AllocatorImpl) allocator).sites();
        return sites == null ? 0 : sites.samples().size();
    }
}
