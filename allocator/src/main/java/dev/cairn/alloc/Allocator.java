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

    /**
     * A block of at least {@code size} bytes aligned to {@code alignment}, any positive power of two. Alignments above
     * the segment size get a segment of their own that reserves (not commits) the alignment's worth of address
     * space more; one whose reservation exceeds the address space is an {@link OutOfMemoryError}.
     */
    long mallocAligned(long size, long alignment);

    /** Frees a block from any thread; {@code free(0)} does nothing. */
    void free(long address);

    /**
     * Frees a block once every online thread of this allocator's QSBR domain ({@link #qsbr()}) has passed a
     * quiescent point: lock-free readers that may still hold the block never see it freed (CPython's
     * {@code _PyMem_FreeDelayed}). The block is checked now, as {@link #free(long)} checks it, and a second free of
     * it, delayed or not, is refused from this call on. Readers take part through {@link #qsbrThread()}; a thread
     * that only frees with delay takes part offline and holds nobody back. {@code freeDelayed(0)} does nothing.
     *
     * <p>When: a platform thread gathers its delayed frees in a batch (up to 64 blocks or 256 KiB) and hands the
     * batch to the domain when it is full, on every 16th allocation slow path of the thread, on {@link #collect},
     * on {@link #releaseCurrentThread()}, when the thread's heap ends, and, if the thread reports quiescent points
     * itself ({@link #qsbrThread()} online), at the first of them after the readers have passed one; from then,
     * the batch is freed at the first quiescent or processing point of the thread after every online reader has
     * passed a quiescent point. A thread that only frees with delay (offline) and makes no other allocator call
     * keeps them in the batch: {@code collect(false)} hands them over and runs what is due.
     */
    void freeDelayed(long address);

    /** This allocator's QSBR domain: its own, so threads of one allocator never wait for another's. */
    dev.cairn.reclaim.Qsbr qsbr();

    /**
     * The calling thread's handle in {@link #qsbr()}, registered and online on first call: a reader reports
     * {@link dev.cairn.reclaim.QsbrThread#quiescent()} where it holds no block of a shared structure, and
     * {@link dev.cairn.reclaim.QsbrThread#detach() detaches} around blocking calls. Deferred work handed to it (the
     * thread's batches of {@link #freeDelayed} blocks once handed over, see there) runs at its quiescent points.
     */
    dev.cairn.reclaim.QsbrThread qsbrThread();

    /**
     * A segment over a new block ({@link #mallocAligned}): its {@code byteSize()} is {@code byteSize}, not the
     * block's usable size, and it lives in this allocator's scope (see {@link #free(MemorySegment)}). Its contents are
     * unspecified, as {@code malloc}'s are (the JDK's arenas, and {@link #newArena()}'s, zero theirs). As with the
     * JDK's arenas, a negative size or an alignment that is not a positive power of two is an
     * {@link IllegalArgumentException}, and no memory an {@link OutOfMemoryError}; any power of two is an alignment
     * ({@link #mallocAligned}). The segments of {@link #newArena()} follow the same rules.
     */
    @Override
    MemorySegment allocate(long byteSize, long byteAlignment);

    /**
     * Frees a segment returned by {@link #allocate(long, long)} (or by one of this allocator's arenas, as
     * {@link #free(long)} frees its address). A segment whose scope has closed, or whose arena was destroyed
     * because its thread ended with it open, is refused with an {@link IllegalArgumentException}: its memory may be
     * another block's by now. The freed segment itself stays
     * accessible to FFM, so reading it after the free is a use after free, as with {@code malloc}: the segments of
     * {@link #allocate(long, long)} all live in one scope, this allocator's, which only {@link #close()} ends.
     */
    void free(MemorySegment segment);

    /** Bytes usable at {@code address}: at least what was asked, all of it writable. */
    long usableSize(long address);

    /** Whether {@code address} lies in a live segment of this allocator (any byte, not only block starts). */
    boolean owns(long address);

    /**
     * Whether {@code address} is the start of a block of this allocator that is allocated now (neither freed nor
     * waiting in {@link #freeDelayed}), without throwing: what {@link #usableSize} proves before it answers. Checked
     * mode proves it from the page's bitmaps; an unchecked allocator keeps no bitmaps and answers
     * {@link #owns(long)}. Safe for any address.
     */
    boolean isLive(long address);

    /**
     * The calling thread's heap. A platform thread gets a heap of its own on first use; virtual threads share a
     * small set of heaps (about two per carrier thread), each locked for the length of one call.
     */
    Heap heap();

    /** How many heap tags there are: {@link #heap(int)} takes 0 to {@code HEAP_TAGS - 1}. */
    int HEAP_TAGS = 8;

    /**
     * The calling thread's heap of {@code tag}; {@code heap(0)} is {@link #heap()}. Blocks of one tag are kept in
     * segments of their own (a thread's heaps of different tags never share a segment, and abandoned segments are
     * adopted only by heaps of the same tag), so that {@link #visitBlocks(int, BlockVisitor)} walks one tag's blocks
     * without reading any other: the way CPython's free-threaded build keeps its GC objects in a heap of their own,
     * to find them by walking that heap alone (mimalloc's heap tags). Blocks of any tag are freed by {@link #free}
     * from any thread. Virtual threads share a small set of heaps per tag. {@link #releaseCurrentThread()} releases
     * every tag's heap of the thread; {@link Heap#release()} only its own.
     *
     * @throws IllegalArgumentException if {@code tag} is negative or not below {@link #HEAP_TAGS}
     */
    Heap heap(int tag);

    /**
     * The calling thread gives up its heaps, one per tag it used ({@link Heap#release()}): segments with live
     * blocks go to this allocator's abandoned pool, where other threads of this allocator adopt them; nothing is
     * lost, and frees of its blocks from any thread are still accepted. The thread's next allocation gets a new
     * heap. It also leaves the allocator's QSBR domain ({@link #qsbrThread()}): its pending delayed frees are handed
     * to the domain and still happen once due. Threads that end without calling this are detected and treated the
     * same way (see {@code docs/design/allocator.md}).
     */
    void releaseCurrentThread();

    /**
     * An {@link Arena} whose allocations come from a heap of its own and are all released at once on
     * {@code close()}. Confined to the calling thread, and its segments zero-initialized, like
     * {@link Arena#ofConfined()}'s. Close it before the allocator ({@link #close()}).
     */
    Arena newArena();

    /**
     * An {@link Arena} like {@link #newArena()}, shared like {@link Arena#ofShared()}'s: any thread may allocate from
     * it (the arena's heap is taken under a lock, so allocations from several threads queue on it; give hot threads
     * confined arenas of their own) and any thread may close it, which releases every allocation at once. Segments
     * are zero-initialized, and one may be freed before the close with {@link #free(MemorySegment)}, from any thread,
     * as a confined arena's may. Close it before the allocator, or {@link #close()} closes it.
     */
    Arena newSharedArena();

    AllocatorStats stats();

    /** Walks every live block. Exact when no other thread allocates or frees during the walk. */
    void visitBlocks(BlockVisitor visitor);

    /**
     * Walks the live blocks allocated from heaps of {@code tag} ({@link #heap(int)}; arenas' blocks are tag 0),
     * reading only that tag's segments. Exact when no other thread allocates or frees during the walk.
     *
     * @throws IllegalArgumentException if {@code tag} is negative or not below {@link #HEAP_TAGS}
     */
    void visitBlocks(int tag, BlockVisitor visitor);

    /**
     * Checks every invariant of the heap (lists inside their pages, acyclic, counts agree, bitmaps agree) and
     * throws {@link IllegalStateException} with the first violation. Run it when other threads are quiet.
     */
    void validate();

    /**
     * Returns to the OS what is free now: the calling thread's due delayed frees run; its empty pages (with
     * {@code force}, including blocks other threads freed into its full pages and the one page kept per size class,
     * and the shared heaps of virtual threads) are purged at once; so are other live threads' retired pages whose
     * purge delay has passed and whose segment has stopped retiring and reusing pages (all of them with
     * {@code force}; see {@link AllocatorConfig#purgeDelay()}), unless their thread is changing them at that moment
     * (without a {@code collect}, other threads' allocation slow paths purge an idle thread's due pages gradually);
     * heaps of threads that have ended are abandoned; abandoned segments whose blocks have all been freed go back to
     * the OS; cached segments are unmapped.
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
     * Writes a heap dump to {@code path} (replacing it; a symbolic link is followed to its file): segments, pages
     * with their live-block bitmaps, heaps, stats, sampled allocation sites, the sections of the layers above
     * ({@link DumpOptions#sections()}) and, on request, block contents. Safe from any thread; while other threads
     * allocate, the dump is best-effort and says so in its header. A pending interrupt of the caller does not stop it
     * (and is still pending afterwards). Inspect it with {@code scripts/cairn-inspect}.
     *
     * @throws java.io.UncheckedIOException when the file cannot be written, or a section's writer throws an
     *         {@code IOException}; any other exception of a section's writer is thrown as it is
     */
    void dumpHeap(Path path, DumpOptions options);

    /**
     * Returns every segment's memory to the OS; every later call that would touch memory throws
     * {@link IllegalStateException} ({@code free(0)} and {@code freeDelayed(0)} stay no-ops). Idempotent. A call
     * already under way on another thread ends with an {@code IllegalStateException} too (or completes, if it had
     * got far enough): close waits for slow paths in flight, and keeps the segments' addresses mapped (reading
     * zeros, holding no memory) until this allocator is unreachable, so no call can fault. Arenas of
     * the calling thread that are still open are closed first ({@link #newArena()}); an open arena of another live
     * thread makes this throw {@link IllegalStateException}, leaving the allocator open, since its segments stay
     * accessible until that thread closes it.
     */
    @Override
    void close();
}
