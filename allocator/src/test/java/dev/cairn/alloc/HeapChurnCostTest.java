package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * Heap ids are reused: the heap table is as long as the most heaps live at once (the cost per heap start and end is
 * {@code IssueFourContractTest.heapsThatComeAndGoCostTheSameAfterManyCameBefore}).
 */
class HeapChurnCostTest {

    @Test
    void manyArenasOpenAtOnceThenClosedLeaveTheirIdsForLaterHeaps() {
        try (Allocator allocator = Allocator.create()) {
            Arena[] open = new Arena[3_000];
            long[] blocks = new long[open.length];
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < open.length; i++) {
                    open[i] = allocator.newArena();
                    blocks[i] = open[i].allocate(64).address();
                }
                allocator.validate();
                for (Arena arena : open) {
                    arena.close();
                }
                assertTrue(allocator.stats().heapsLive() <= 2, "heaps live: " + allocator.stats().heapsLive());
            }
            allocator.validate();
        }
    }
}
