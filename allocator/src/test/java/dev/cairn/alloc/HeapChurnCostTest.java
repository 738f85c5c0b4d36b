package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * Heaps that come and go (threads, arenas) cost the same after millions came before: the heap table is as long as
 * the most heaps live at once, and a heap's start and end do not copy it.
 */
class HeapChurnCostTest {

    @Test
    void aHeapsStartAndEndCostTheSameAfterManyCameBefore() {
        try (Allocator allocator = Allocator.create()) {
            long early = javaBytesPerArena(allocator, 2_000);
            for (int i = 0; i < 30_000; i++) {
                allocator.newArena().close();
            }
            long late = javaBytesPerArena(allocator, 2_000);
            assertTrue(late <= 2 * early + 1024, "Java bytes per arena: " + early + " after 2,000 arenas, " + late
                    + " after 32,000");
            allocator.validate();
        }
    }

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

    private static long javaBytesPerArena(Allocator allocator, int n) {
        long before = threadAllocatedBytes();
        for (int i = 0; i < n; i++) {
            try (Arena arena = allocator.newArena()) {
                arena.allocate(32);
            }
        }
        return (threadAllocatedBytes() - before) / n;
    }

    /** com.sun.management's count, by reflection: the allocator module does not read jdk.management. */
    private static long threadAllocatedBytes() {
        try {
            Object bean = java.lang.management.ManagementFactory.getThreadMXBean();
            Class<?> type = Class.forName("com.sun.management.ThreadMXBean");
            return (long) type.getMethod("getCurrentThreadAllocatedBytes").invoke(bean);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
