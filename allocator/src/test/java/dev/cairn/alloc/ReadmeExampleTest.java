package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The README's library example, as written there, so the README cannot drift from the API. */
class ReadmeExampleTest {

    @Test
    void readmeExampleRuns() {
        try (Allocator allocator = Allocator.create()) {          // checked mode by default
            long p = allocator.malloc(100);                        // 16-byte aligned, off-heap
            allocator.free(p);                                     // any thread may free; a bad address throws
            MemorySegment s = allocator.allocateFrom("hello");     // it is a java.lang.foreign.SegmentAllocator
            try (Arena arena = allocator.newArena()) {             // everything freed at once on close
                arena.allocate(4096);
            }
            try (Arena shared = allocator.newSharedArena()) {      // any thread may allocate and close
                shared.allocate(4096);
            }
            assertEquals("hello", s.getString(0));
            allocator.validate();
        }
    }
}
