package dev.cairn.segments.internal;

import dev.cairn.segments.Segment.Backing;
import dev.cairn.segments.SegmentConfig.HugePages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Portable {@link OsMemory}: each reservation is one {@code Arena.ofShared()} holding one aligned allocation.
 *
 * <p>One arena per segment is what lets segments be released one at a time (closing the arena frees exactly that
 * allocation); shared arenas because segments are used from many threads. The JDK allocates with malloc and zeroes
 * the memory, so it is committed, resident and zero from reservation to release: the backing is
 * {@link Backing#ARENA}, which is always committed, and the space never calls commit, decommit or purge here.
 * Huge pages cannot be asked for, so such requests count as fallbacks.
 */
final class ArenaOsMemory implements OsMemory {

    private final SpaceCounters counters;
    /** Arena of each live reservation, by base address. */
    private final ConcurrentHashMap<Long, Arena> arenas = new ConcurrentHashMap<>();

    ArenaOsMemory(SpaceCounters counters) {
        this.counters = counters;
    }

    @Override
    public long pageSize() {
        return Platform.pageSize();
    }

    @Override
    public Mapping reserve(long size, long alignment, HugePages hugePages) {
        if (hugePages != HugePages.OFF) {
            counters.hugePageFallback();
        }
        Arena arena = Arena.ofShared();
        counters.mapCall();
        MemorySegment memory;
        try {
            memory = arena.allocate(size, alignment);
        } catch (OutOfMemoryError e) {
            counters.failedCall();
            arena.close();
            throw OsException.outOfMemory("allocate", size, e);
        }
        arenas.put(memory.address(), arena);
        return new Mapping(memory.address(), Backing.ARENA);
    }

    @Override
    public void release(long base, long size) {
        Arena arena = arenas.remove(base);
        if (arena == null) {
            throw new IllegalStateException("no arena reservation at " + Sizes.hex(base)); // the space checks first
        }
        counters.unmapCall();
        arena.close();
    }

    /** The arena's memory is freed only with its arena, which must wait for {@link #release}: kept until then. */
    @Override
    public void retire(long base, long size) {
        counters.noOpRequest();
    }

    @Override
    public void commit(long address, long length) {
        throw alwaysCommitted();
    }

    @Override
    public void decommit(long address, long length) {
        throw alwaysCommitted();
    }

    @Override
    public void purge(long address, long length) {
        throw alwaysCommitted();
    }

    @Override
    public String purgeDescription() {
        return "none (arena memory stays committed)";
    }

    private static IllegalStateException alwaysCommitted() {
        return new IllegalStateException("arena memory is always committed; the space must not ask the OS");
    }
}
