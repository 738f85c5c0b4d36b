package dev.cairn.alloc;

import dev.cairn.alloc.internal.AllocatorImpl;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;

/**
 * An off-heap allocator: a domain with its own segments, heaps and pools. See the package documentation for the
 * rules on addresses, threads, checked mode and errors.
 *
 * <pre>{@code
 * try (Allocator allocator = Allocator.create()) {
 *     long p = allocator.malloc(100);
 *     ...
 *     allocator.free(p);
 * }
 * }</pre>
 */
public sealed interface Allocator extends SegmentAllocator, AutoCloseable permits AllocatorImpl {

    /** An allocator configured by {@link AllocatorConfig#fromSystemProperties()} (checked by default). */
    static Allocator create() {
        return create(AllocatorConfig.fromSystemProperties());
    }

    static Allocator create(AllocatorConfig config) {
        return new AllocatorImpl(config);
    }

    /** A block of at least {@code size} bytes (a 0-byte request gets a unique block), 16-byte aligned. */
    long malloc(long size);

    /** A zeroed block of {@code count * size} bytes; an overflowing product is an {@link IllegalArgumentException}. */
    long calloc(long count, long size);

    /**
     * Resizes a block: contents are kept up to the smaller size; in place when the block's usable size allows.
     * {@code realloc(0, n)} is {@code malloc(n)}; {@code realloc(p, 0)} returns a minimal block, as mimalloc does.
     */
    long realloc(long address, long newSize);

    /** A block of at least {@code size} bytes aligned to {@code alignment}: a power of two up to the segment size. */
    long mallocAligned(long size, long alignment);

    /** Frees a block from any thread; {@code free(0)} does nothing. */
    void free(long address);

    /** Frees a segment returned by {@link #allocate(long, long)}. */
    void free(MemorySegment segment);

    /** Bytes usable at {@code address}: at least what was asked, all of it writable. */
    long usableSize(long address);

    /** Whether {@code address} lies in a live segment of this allocator (any byte, not only block starts). */
    boolean owns(long address);

    /** The calling thread's heap. */
    Heap heap();

    /**
     * An {@link Arena} whose allocations come from a heap of its own and are all released at once on
     * {@code close()}. Confined to the calling thread, like {@link Arena#ofConfined()}.
     */
    Arena newArena();

    AllocatorStats stats();

    /** Walks every live block. Exact when no other thread allocates or frees during the walk. */
    void visitBlocks(BlockVisitor visitor);

    /**
     * Checks every invariant of the heap (lists inside their pages, acyclic, counts agree, bitmaps agree) and
     * throws {@link IllegalStateException} with the first violation. Run it when other threads are quiet.
     */
    void validate();

    /**
     * Returns to the OS what is free now: the calling thread's empty pages (with {@code force}, including blocks
     * other threads freed into its full pages and the one page kept per size class), purged at once, and the
     * allocator's cached segments.
     */
    void collect(boolean force);

    AllocatorConfig config();

    // ---- heap dumps (docs/heap-dump-format.md) ----

    /** This allocator's id, unique in the JVM: the dump header's domain id and the JMX name's {@code id}. */
    long domainId();

    /** {@link #dumpHeap(Path, DumpOptions)} with {@link DumpOptions#DEFAULT}. */
    default void dumpHeap(Path path) {
        dumpHeap(path, DumpOptions.DEFAULT);
    }

    /**
     * Writes a heap dump to {@code path} (replacing it): segments, pages with their live-block bitmaps, heaps,
     * stats, sampled allocation sites and, on request, block contents. Safe from any thread; while other threads
     * allocate, the dump is best-effort and says so in its header. Inspect it with {@code scripts/cairn-inspect}.
     *
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    void dumpHeap(Path path, DumpOptions options);

    /** Returns every segment to the OS; every later call throws {@link IllegalStateException}. Idempotent. */
    @Override
    void close();
}
