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
        return ((AllocatorImpl) allocator).store().map().lookup(address);
    }

    public static boolean isAbandoned(Allocator allocator, long segmentBase) {
        return ((AllocatorImpl) allocator).pool().contains(segmentBase);
    }
}
