package dev.cairn.segments;

import dev.cairn.segments.internal.SegmentSpaceImpl;

/**
 * Aligned segments of address space from the operating system, with commit, decommit and purge inside them.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>Reserve</b> hands out address space aligned to {@link #segmentSize()}, inaccessible until committed
 *       (except for always-committed backings, see {@link Segment.Backing#alwaysCommitted()}).</li>
 *   <li><b>Commit</b> makes a range readable and writable; new memory reads as zeros. Rounds <em>outward</em> to
 *       whole commit units: everything asked for becomes usable.</li>
 *   <li><b>Purge</b> tells the OS the contents of a committed range are no longer needed; it stays committed and
 *       usable, its contents are unspecified (with {@link SegmentConfig.PurgeMode#DONTNEED} on Linux they read as
 *       zeros; the arena backend leaves them as they were). <b>Decommit</b> purges and makes the range
 *       inaccessible again. Both round <em>inward</em> to whole commit units, so memory outside the range is never
 *       lost, and both skip units that are not committed.</li>
 *   <li><b>Release</b> returns a segment's address space to the OS; {@link #close()} releases every live one.</li>
 * </ul>
 * Ranges are an {@code offset} and {@code length} inside the segment, both multiples of {@link #pageSize()}, with
 * {@code length > 0}. Commit state is tracked per commit unit with a per-segment lock, so these are slow-path
 * operations meant for page-sized and larger work, and they are safe to call from any thread.
 *
 * <h2>Failures</h2>
 * {@link IllegalArgumentException} for bad sizes and ranges; {@link IllegalStateException} for a segment that is
 * not live here (released, released twice, or from another space) and for any use of a closed space except
 * {@code stats}, {@code config}, {@code segmentSize}, {@code pageSize} and {@code close};
 * {@link OutOfMemoryError} naming the size when the OS has no memory or address space; any other refusal by the OS
 * is a {@link RuntimeException} naming the call, its errno and the errno's text. A failed call leaves no mapping
 * behind and the byte counters exact.
 */
public sealed interface SegmentSpace extends AutoCloseable permits SegmentSpaceImpl {

    /**
     * Upper bound on any reservation: the 47-bit user address space of x86_64 and of aarch64 with 48-bit virtual
     * addresses. Asking for more is a programming error, not a shortage.
     */
    long ADDRESS_SPACE_LIMIT = 1L << 47;

    /**
     * A space as configured.
     *
     * @throws IllegalArgumentException      if {@code commitUnit} is smaller than the OS page size
     * @throws UnsupportedOperationException if {@link SegmentConfig.Backend#MMAP} is asked for where it does not run
     */
    static SegmentSpace create(SegmentConfig config) {
        return SegmentSpaceImpl.create(config);
    }

    /** A space with {@link SegmentConfig#defaults()}. */
    static SegmentSpace create() {
        return create(SegmentConfig.defaults());
    }

    /** A new segment of {@link #segmentSize()} bytes, aligned to it. */
    Segment reserve();

    /**
     * A segment of {@code size} bytes for a huge block, aligned to {@link #segmentSize()}.
     *
     * @throws IllegalArgumentException if {@code size} is not a positive multiple of the segment size or exceeds
     *                                  {@link #ADDRESS_SPACE_LIMIT}
     */
    Segment reserveHuge(long size);

    /** Commits the commit units overlapping {@code [offset, offset + length)}; already committed ones are kept. */
    void commit(Segment segment, long offset, long length);

    /** Purges, then makes inaccessible, the committed units wholly inside the range. */
    void decommit(Segment segment, long offset, long length);

    /**
     * Gives the memory of the committed units wholly inside the range back to the OS (see
     * {@link SegmentConfig.PurgeMode}) and stops counting them as committed, but leaves them accessible: a read there
     * cannot fault (it sees zeros with {@code MADV_DONTNEED}), and {@link #commit} counts them again with no system
     * call. Call {@code commit} before using them again. mimalloc's purge on Linux.
     */
    void purge(Segment segment, long offset, long length);

    /**
     * Gives the purged units wholly inside the range back to the OS again: whatever was read or written there since
     * the purge (a use after free through a view kept past its block's free) leaves RAM. Counters and commit state
     * do not change; committed and reserved-only units are skipped.
     */
    void discardPurged(Segment segment, long offset, long length);

    /**
     * Gives the memory of the committed units wholly inside the range back to the OS like {@link #purge}, but keeps
     * them committed: for discarding contents (zeroing by purge) of memory that stays in use. mimalloc's reset.
     */
    void reset(Segment segment, long offset, long length);

    /** True when every commit unit overlapping the range is committed. */
    boolean isCommitted(Segment segment, long offset, long length);

    /** Bytes of the segment's commit units that are committed now (not purged, decommitted or never committed). */
    long committedBytes(Segment segment);

    /** Returns the segment's address space to the OS. Its memory must no longer be touched. */
    void release(Segment segment);

    long segmentSize();

    /** The OS page size in bytes; ranges are multiples of it. */
    long pageSize();

    SegmentStats stats();

    SegmentConfig config();

    /**
     * Ends the space's work but keeps its addresses: every live segment's memory goes back to the OS as
     * {@link #close()} would give it, yet its address range stays mapped, readable and writable, reading zeros, until
     * {@link #close()}. For an owner whose other threads may still be inside code that read a segment's address just
     * before the end (the allocator's {@code close()}): such a thread finds memory, never an unmapped page. Nothing
     * else can be mapped at those addresses meanwhile. After this every call but {@code close()} and {@code stats()}
     * refuses with {@link IllegalStateException}; a second call does nothing. The committed-bytes figure drops to
     * zero; the reserved one stays until {@code close()}. (The portable {@code ARENA} backend keeps the memory too.)
     */
    void retire();

    /** Releases every live or retired segment; later calls do nothing. The space refuses further work. */
    @Override
    void close();
}
