/**
 * The allocator: per-thread heaps, size-class pages, three free lists per page, cross-thread frees, checked frees,
 * delayed frees through the allocator's own QSBR domain, thread-exit abandonment, FFM {@code Arena} and
 * {@code SegmentAllocator} adapters, stats and heap walking.
 */
module dev.cairn.alloc {
    requires transitive dev.cairn.segments;
    requires dev.cairn.radix;
    requires transitive dev.cairn.reclaim;
    requires java.management; // the allocator's MBean (heap dumps from a running JVM)

    exports dev.cairn.alloc;
}
