package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * A thread that ends with an arena still open: the reaper used to abandon the arena's heap like a thread heap, so
 * its segments (flagged as an arena's) went to the abandoned pool, {@code validate()} failed ("arena flag is true but
 * its heap is none"), and a thread heap that adopted such a segment had {@code freeDelayed} refuse its own malloc
 * blocks as arena blocks. Found by the test-stress port (arenas in short-lived threads).
 */
class DeadThreadArenaTest {

    @Test
    void arenaLeftOpenByAnEndedThreadIsDestroyedNotAbandoned() throws InterruptedException {
        for (boolean virtual : new boolean[] {false, true}) {
            try (Allocator allocator = Allocator.create()) {
                long[] kept = new long[1];
                Runnable leak = () -> {
                    Arena arena = allocator.newArena(); // never closed
                    for (int i = 0; i < 10; i++) {
                        kept[0] = arena.allocate(100).address();
                    }
                };
                Thread thread = virtual ? Thread.ofVirtual().start(leak) : Thread.ofPlatform().start(leak);
                thread.join();
                allocator.collect(false); // reaps the ended thread's heaps
                allocator.validate();
                assertEquals(0, allocator.stats().abandonedSegments(), "virtual=" + virtual);
                assertEquals(0, allocator.stats().blocksInUse(), "virtual=" + virtual);
                assertFalse(allocator.isLive(kept[0]));

                long[] blocks = new long[100]; // same size class: would adopt the arena's segment
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = allocator.malloc(100);
                }
                allocator.validate();
                for (long block : blocks) {
                    allocator.freeDelayed(block); // refused as an arena block before
                }
                allocator.collect(true);
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse(), "virtual=" + virtual);
            }
        }
    }
}
