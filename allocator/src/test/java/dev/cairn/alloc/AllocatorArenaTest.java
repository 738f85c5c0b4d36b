package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AllocatorArenaTest {

    @Test
    void segmentAllocatorMethodsWork() {
        try (Allocator allocator = Allocator.create()) {
            MemorySegment ints = allocator.allocateFrom(ValueLayout.JAVA_INT, 1, 2, 3, 4);
            assertEquals(16, ints.byteSize());
            assertEquals(3, ints.getAtIndex(ValueLayout.JAVA_INT, 2));
            MemorySegment text = allocator.allocateFrom("cairn");
            assertEquals("cairn", text.getString(0));
            MemorySegment aligned = allocator.allocate(100, 4096);
            assertEquals(0, aligned.address() % 4096);
            assertTrue(allocator.owns(ints.address()));
            allocator.free(ints);
            allocator.free(text);
            allocator.free(aligned);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void arenaReleasesEverythingAtOnce() {
        try (Allocator allocator = Allocator.create()) {
            long segmentsBefore = allocator.stats().liveSegments();
            List<MemorySegment> segments = new ArrayList<>();
            Arena arena = allocator.newArena();
            for (int i = 0; i < 10_000; i++) {
                MemorySegment s = arena.allocate(1 + i % 700, 8);
                s.fill((byte) i);
                segments.add(s);
            }
            segments.add(arena.allocate(5L << 20));
            assertTrue(arena.scope().isAlive());
            allocator.validate();
            assertTrue(allocator.stats().liveSegments() > segmentsBefore);
            long address = segments.get(0).address();
            arena.close();
            assertFalse(arena.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> segments.get(0).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(segmentsBefore, allocator.stats().liveSegments());
            assertFalse(allocator.owns(address));
            assertThrows(IllegalArgumentException.class, () -> allocator.free(address));
            assertThrows(IllegalStateException.class, () -> arena.allocate(8));
            allocator.validate();
        }
    }

    @Test
    @SuppressWarnings("try") // closing from another thread on purpose
    void arenaIsConfinedToItsThread() throws InterruptedException {
        try (Allocator allocator = Allocator.create(); Arena arena = allocator.newArena()) {
            MemorySegment s = arena.allocate(64);
            Throwable thrown = OtherThread.thrownBy(() -> arena.close());
            assertTrue(thrown instanceof WrongThreadException, String.valueOf(thrown));
            assertTrue(s.scope().isAlive());
        }
    }

    @Test
    void arenaBlocksCanBeFreedOneByOne() {
        try (Allocator allocator = Allocator.create(); Arena arena = allocator.newArena()) {
            MemorySegment a = arena.allocate(100);
            MemorySegment b = arena.allocate(100);
            allocator.free(a);
            assertThrows(IllegalArgumentException.class, () -> allocator.free(a));
            b.fill((byte) 1);
            allocator.validate();
        }
    }

    @Test
    void freeingASegmentOfAClosedArenaIsRefused() {
        try (Allocator allocator = Allocator.create()) {
            Arena arena = allocator.newArena();
            MemorySegment stale = arena.allocate(64);
            arena.close();
            long p = allocator.malloc(64); // the closed arena's memory is reused: often the very same address
            // the stale segment's address used to be freed as is, freeing whatever block now lives there
            Throwable thrown = assertThrows(IllegalArgumentException.class, () -> allocator.free(stale));
            assertTrue(thrown.getMessage().contains("scope is closed"), thrown.getMessage());
            assertTrue(allocator.isLive(p));
            allocator.free(p);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void segmentsOfTheAllocatorEndWithIt() {
        Allocator allocator = Allocator.create();
        MemorySegment small = allocator.allocate(64);
        MemorySegment huge = allocator.allocate(40L << 20); // a segment of its own, unmapped by close
        assertTrue(small.scope().isAlive());
        assertEquals(small.scope(), huge.scope());
        allocator.close();
        // they used to have the global scope: alive forever, and an access after close read unmapped memory (SIGSEGV)
        assertFalse(huge.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> huge.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> small.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        assertThrows(IllegalStateException.class, () -> allocator.free(small)); // closed, as free(long) says
    }

    @Test
    void anAllocatorWhoseOpenArenasCleanupThrowsStillCloses() {
        Allocator allocator = Allocator.create();
        Arena failing = allocator.newArena();
        Arena other = allocator.newArena();
        MemorySegment kept = other.allocate(64);
        MemorySegment.ofAddress(0).reinterpret(1, failing, segment -> {
            throw new IllegalStateException("cleanup failed");
        });
        Throwable thrown = assertThrows(IllegalStateException.class, allocator::close);
        assertEquals("cleanup failed", thrown.getMessage());
        // closed all the same: before, close stopped at the failing arena, and the allocator and the later arena
        // stayed open
        assertFalse(failing.scope().isAlive());
        assertFalse(other.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> kept.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> allocator.malloc(8));
        allocator.close(); // and a second close does nothing
    }

    @Test
    void anArenaWhoseCleanupActionThrowsStillGivesItsMemoryBack() throws InterruptedException {
        try (Allocator allocator = Allocator.create()) {
            long segmentsBefore = allocator.stats().liveSegments();
            Arena arena = allocator.newArena();
            arena.allocate(100);
            MemorySegment.ofAddress(0).reinterpret(1, arena, segment -> {
                throw new IllegalStateException("cleanup failed");
            });
            // the JDK closes the scope, runs every cleanup, then throws the first cleanup's exception
            Throwable thrown = assertThrows(IllegalStateException.class, arena::close);
            assertEquals("cleanup failed", thrown.getMessage());
            assertFalse(arena.scope().isAlive());
            // the arena's heap used to be kept: its blocks and segments were lost until the allocator closed
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(segmentsBefore, allocator.stats().liveSegments());
            allocator.validate();
            assertThrows(IllegalStateException.class, arena::close);
            // and it stayed among the open arenas, so closing the allocator from another thread was refused
            AtomicReference<Throwable> closeThrew = new AtomicReference<>();
            Thread closer = new Thread(() -> {
                try {
                    allocator.close();
                } catch (Throwable t) {
                    closeThrew.set(t);
                }
            });
            closer.start();
            closer.join();
            assertEquals(null, closeThrew.get());
        }
    }

    @Test
    void aClosedArenaChecksItsArgumentsFirstAsTheJdksArenasDo() {
        try (Allocator allocator = Allocator.create()) {
            Arena cairn = allocator.newArena();
            Arena jdk = Arena.ofConfined();
            cairn.close();
            jdk.close();
            for (Arena arena : new Arena[] {jdk, cairn}) {
                // a bad alignment used to be reported as the closed arena's IllegalStateException by Cairn's only
                assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, 3), arena.toString());
                assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, 0), arena.toString());
                assertThrows(IllegalArgumentException.class, () -> arena.allocate(-1, 8), arena.toString());
                assertThrows(IllegalStateException.class, () -> arena.allocate(8, 8), arena.toString());
            }
        }
    }

    @Test
    void segmentsHaveTheSizeAskedForAndAnyAlignment() {
        try (Allocator allocator = Allocator.create(); Arena arena = allocator.newArena()) {
            long segmentSize = allocator.config().segmentSize();
            for (SegmentAllocator from : new SegmentAllocator[] {allocator, arena}) {
                for (long alignment : new long[] {segmentSize, segmentSize * 2, segmentSize * 8}) {
                    for (long size : new long[] {0, 1, 17, 1000, 70_000, 3L << 20}) {
                        MemorySegment s = from.allocate(size, alignment);
                        assertEquals(size, s.byteSize()); // not the block's usable size
                        assertEquals(0, s.address() % alignment);
                        if (size > 0) {
                            s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, size - 1, (byte) 7);
                        }
                        if (from == allocator) {
                            allocator.free(s);
                        }
                    }
                }
                // as the JDK's arenas: an alignment no address space holds is out of memory
                assertThrows(OutOfMemoryError.class, () -> from.allocate(8, 1L << 62));
            }
            allocator.validate();
        }
    }

    @Test
    void arenaSegmentsAreZeroedAsTheJdksArenasAre() {
        // Arena.ofConfined() zeroes what it hands out; Cairn's arenas handed out freed blocks with their old bytes
        try (Allocator allocator = Allocator.create(); Arena arena = allocator.newArena()) {
            for (long size : new long[] {24, 64, 1000, 70_000, 600_000, 5L << 20}) {
                for (long alignment : new long[] {8, 64, 4096, 1L << 20}) {
                    List<MemorySegment> dirty = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        MemorySegment s = arena.allocate(size, alignment);
                        s.fill((byte) 0x55);
                        dirty.add(s);
                    }
                    dirty.forEach(allocator::free);
                    for (int i = 0; i < 50; i++) {
                        MemorySegment s = arena.allocate(size, alignment);
                        long nonZero = s.mismatch(MemorySegment.ofArray(new byte[(int) size]));
                        assertEquals(-1, nonZero, "size " + size + " alignment " + alignment + ": byte " + nonZero);
                        allocator.free(s);
                    }
                }
            }
            allocator.validate();
        }
    }

    @Test
    void aSegmentOfAClosedAllocatorIsRefusedSayingSo() {
        try (Allocator allocator = Allocator.create()) {
            Allocator other = Allocator.create();
            MemorySegment theirs = other.allocate(64);
            other.close();
            // the message used to blame an arena, which this segment never had
            Throwable thrown = assertThrows(IllegalArgumentException.class, () -> allocator.free(theirs));
            assertTrue(thrown.getMessage().contains("the allocator it came from, was closed"), thrown.getMessage());
            allocator.validate();
        }
    }
}
