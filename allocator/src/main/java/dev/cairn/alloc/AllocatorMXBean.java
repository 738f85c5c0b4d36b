package dev.cairn.alloc;

/**
 * The management interface of one allocator, registered with the platform MBean server as
 * {@code dev.cairn:type=Allocator,id=N} while the allocator is open (N is {@link Allocator#domainId()}), so a heap
 * dump can be taken from a running JVM without code changes (JConsole, VisualVM, or any JMX client).
 */
public interface AllocatorMXBean {

    /** {@link Allocator#domainId()}. */
    long getDomainId();

    /** {@link AllocatorStats#toJson()} of a fresh snapshot. */
    String getStatsJson();

    /** Writes a heap dump without block contents to {@code path}; returns the absolute path written. */
    String dumpHeap(String path);
}
