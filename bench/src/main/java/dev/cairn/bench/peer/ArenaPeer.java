package dev.cairn.bench.peer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One {@code Arena.ofConfined()} per block: the FFM API's own way to get one block and give it back. A confined
 * arena may be closed only by its owner thread, so this peer cannot take cross-thread frees
 * ({@link PeerSpec#crossThread()} is false) and runs the single-thread workloads only. Each block keeps its arena
 * and its segment in one small record: one extra Java object per block, small next to the arena's own.
 */
final class ArenaPeer extends ObjectPeer<ArenaPeer.Block> {

    record Block(Arena arena, MemorySegment segment) {
    }

    ArenaPeer() {
        super("arena-confined");
    }

    @Override
    Block allocate(long size) {
        Arena arena = Arena.ofConfined();
        return new Block(arena, arena.allocate(size, 16));
    }

    @Override
    void release(Block block) {
        block.arena().close();
    }

    @Override
    void put(Block block, long offset, byte value) {
        block.segment().set(ValueLayout.JAVA_BYTE, offset, value);
    }

    @Override
    byte get(Block block, long offset) {
        return block.segment().get(ValueLayout.JAVA_BYTE, offset);
    }
}
