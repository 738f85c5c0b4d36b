package dev.cairn.segments.internal;

import dev.cairn.segments.Segment;
import dev.cairn.segments.SegmentConfig.HugePages;

/**
 * The contract between a segment space and the operating system, stated once for every implementation.
 *
 * <p><b>Units.</b> Addresses and lengths are bytes; every address and length passed in is a multiple of
 * {@link #pageSize()} (the space rounds to commit units, which are page multiples, before calling).
 *
 * <p><b>Reserve.</b> {@link #reserve} returns {@code size} bytes aligned to {@code alignment} (a power of two that is
 * a page multiple). The memory is inaccessible, costs no RAM and no commit charge, unless the returned backing is
 * {@link Segment.Backing#alwaysCommitted()}, in which case it is readable, writable and zeroed until release.
 *
 * <p><b>Commit state.</b> The implementation keeps none: the space tracks it and calls {@link #commit},
 * {@link #decommit} and {@link #purge} only on ranges of a reservation that are not always committed, and commits
 * only what is not committed. Commit makes the range readable and writable, reading zeros where never written
 * or purged with {@code DONTNEED}. Purge drops contents but keeps the range usable. Decommit drops contents and
 * makes the range inaccessible.
 *
 * <p><b>Failure.</b> The OS running out of memory or address space ({@code ENOMEM}, or the arena's allocation
 * failing) throws {@link OutOfMemoryError} naming the size asked for; any other refusal throws {@link OsException}.
 * A failed {@link #reserve} leaves nothing mapped; a failed commit, decommit or purge leaves the range as it was
 * or, for purge, partly purged (harmless: purged contents are unspecified anyway).
 *
 * <p><b>Accounting.</b> Each implementation counts the system calls it makes, failed ones and huge-page fallbacks in
 * the {@link SpaceCounters} it was built with; the space counts bytes.
 *
 * <p><b>Threads.</b> Implementations are safe for concurrent use on disjoint ranges.
 */
sealed interface OsMemory permits LinuxOsMemory, ArenaOsMemory {

    /** What {@link #reserve} obtained: the aligned base and the kind of memory behind it. */
    record Mapping(long base, Segment.Backing backing) {
    }

    long pageSize();

    Mapping reserve(long size, long alignment, HugePages hugePages);

    /** Unmaps a whole reservation made by {@link #reserve} with the same size. */
    void release(long base, long size);

    /**
     * Gives a whole reservation's memory back but keeps its addresses mapped, readable and writable, reading zeros
     * (the mapping is replaced in one call, so no access ever finds the range unmapped); {@link #release} still
     * unmaps it later. Where the memory cannot be given back without unmapping, it is kept until then.
     */
    void retire(long base, long size);

    void commit(long address, long length);

    void decommit(long address, long length);

    void purge(long address, long length);

    /** The purge advice in effect, for people: {@code MADV_DONTNEED}, {@code MADV_FREE}, or {@code none (arena)}. */
    String purgeDescription();
}
