package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Every bad input gets a clear exception, and the allocator works (and validates) afterwards. */
class AllocatorMisuseTest {

    private static void rejects(Allocator allocator, Class<? extends Throwable> type, String fragment,
            Runnable call) {
        AllocatorStats before = allocator.stats();
        Throwable thrown = assertThrows(type, call::run);
        assertTrue(thrown.getMessage().contains(fragment), thrown.getMessage());
        allocator.validate();
        AllocatorStats after = allocator.stats();
        assertEquals(before.blocksInUse(), after.blocksInUse(), "heap unchanged");
        assertEquals(before.allocatedBytes(), after.allocatedBytes(), "heap unchanged");
        long p = allocator.malloc(48);
        Blocks.fill(p, 48, 3);
        Blocks.check(p, 48, 3);
        allocator.free(p);
    }

    private static void withAllocator(Consumer<Allocator> test) {
        try (Allocator allocator = Allocator.create()) {
            test.accept(allocator);
        }
    }

    /** Unchecked mode proves nothing, but a null costs nothing to refuse: its page would be read at address 0. */
    @Test
    void usableSizeOfNullIsRefusedInUncheckedModeToo() {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(false).build())) {
            rejects(allocator, IllegalArgumentException.class, "not an address", () -> allocator.usableSize(0));
            rejects(allocator, IllegalArgumentException.class, "not an address", () -> allocator.heap().usableSize(0));
            long p = allocator.malloc(100);
            assertTrue(allocator.usableSize(p) >= 100);
            allocator.free(p);
        }
    }

    @Test
    void interiorPointers() {
        withAllocator(allocator -> {
            long p = allocator.malloc(100);
            long huge = allocator.malloc(10L << 20);
            for (long bad : new long[] {p + 1, p + 8, p + 16, p + 111, huge + 16, huge + 4096}) {
                rejects(allocator, IllegalArgumentException.class, "not the start of a block",
                        () -> allocator.free(bad));
                rejects(allocator, IllegalArgumentException.class, "not the start", () -> allocator.usableSize(bad));
                rejects(allocator, IllegalArgumentException.class, "realloc(0x",
                        () -> allocator.realloc(bad, 10)); // the error names the call that was made
            }
            allocator.free(p);
            allocator.free(huge);
        });
    }

    @Test
    void doubleFrees() {
        withAllocator(allocator -> {
            long keep = allocator.malloc(64);
            long p = allocator.malloc(64);
            allocator.free(p);
            rejects(allocator, IllegalArgumentException.class, "not allocated", () -> allocator.free(p));
            rejects(allocator, IllegalArgumentException.class, "not allocated", () -> allocator.usableSize(p));
            rejects(allocator, IllegalArgumentException.class, "not allocated", () -> allocator.realloc(p, 10));
            rejects(allocator, IllegalArgumentException.class, "realloc(0x", () -> allocator.realloc(p, 10));
            long q = allocator.malloc(64);
            OtherThread.run(() -> allocator.free(q));
            rejects(allocator, IllegalArgumentException.class, "freed by another thread", () -> allocator.free(q));
            OtherThread.run(() -> rejects(allocator, IllegalArgumentException.class, "already freed",
                    () -> allocator.free(q)));
            long huge = allocator.malloc(40L << 20);
            allocator.free(huge);
            rejects(allocator, IllegalArgumentException.class, "not an address of this allocator",
                    () -> allocator.free(huge));
            allocator.free(keep);
        });
    }

    @Test
    void foreignPointers() {
        withAllocator(allocator -> {
            try (Allocator other = Allocator.create(); Arena arena = Arena.ofConfined()) {
                long theirs = other.malloc(64);
                long jdk = arena.allocate(64).address();
                for (long bad : new long[] {theirs, jdk, 8, 4096, -16, Long.MIN_VALUE, Long.MAX_VALUE & ~15,
                        1L << 47, 0x7fff_ffff_f000L}) {
                    rejects(allocator, IllegalArgumentException.class, "not an address of this allocator",
                            () -> allocator.free(bad));
                    rejects(allocator, IllegalArgumentException.class, "not an address",
                            () -> allocator.usableSize(bad));
                }
                Blocks.fill(theirs, 64, 1);
                Blocks.check(theirs, 64, 1);
                other.free(theirs);
                other.validate();
            }
            rejects(allocator, IllegalArgumentException.class, "not an address", () -> allocator.usableSize(0));
            rejects(allocator, IllegalArgumentException.class, "heap segment",
                    () -> allocator.free(java.lang.foreign.MemorySegment.ofArray(new byte[16])));
            allocator.free(java.lang.foreign.MemorySegment.NULL); // the segment form of free(0)
            allocator.free(0); // C's free(NULL)
        });
    }

    @Test
    void isLiveAnswersForAnyAddressWithoutThrowing() {
        withAllocator(allocator -> {
            try (Allocator other = Allocator.create()) {
                long small = allocator.malloc(64);
                long large = allocator.malloc(200_000);
                long huge = allocator.malloc(40L << 20);
                long freed = allocator.malloc(64);
                allocator.free(freed);
                long delayed = allocator.malloc(64);
                allocator.freeDelayed(delayed); // pending: no longer the caller's
                long segment = small & -(32L << 20); // the default segment size
                for (long live : new long[] {small, large, huge}) {
                    assertTrue(allocator.isLive(live), Long.toHexString(live));
                }
                for (long bad : new long[] {0, 8, 4096, -16, Long.MIN_VALUE, Long.MAX_VALUE & ~15, small + 16,
                        large + 4096, huge + 16, huge + (1L << 20), freed, delayed, segment + (30L << 20),
                        other.malloc(64)}) {
                    assertFalse(allocator.isLive(bad), Long.toHexString(bad));
                }
                allocator.free(small);
                assertFalse(allocator.isLive(small));
                allocator.free(large);
                allocator.free(huge);
                assertFalse(allocator.isLive(huge));
                allocator.validate();
            }
        });
    }

    @Test
    void badSizesAndAlignments() {
        withAllocator(allocator -> {
            // pages of the small, medium and large classes exist first: the malloc fast path must refuse a
            // negative size itself, not only when it happens to find no page and falls to the slow path
            long[] held = {allocator.malloc(16), allocator.malloc(3000), allocator.malloc(200_000)};
            rejects(allocator, IllegalArgumentException.class, "negative", () -> allocator.malloc(-1));
            rejects(allocator, IllegalArgumentException.class, "negative", () -> allocator.malloc(-3000));
            rejects(allocator, IllegalArgumentException.class, "negative", () -> allocator.heap().malloc(-16));
            rejects(allocator, IllegalArgumentException.class, "negative", () -> allocator.malloc(Long.MIN_VALUE));
            rejects(allocator, OutOfMemoryError.class, Long.toString(Long.MAX_VALUE),
                    () -> allocator.malloc(Long.MAX_VALUE));
            for (long block : held) {
                allocator.free(block);
            }
            rejects(allocator, IllegalArgumentException.class, "overflows",
                    () -> allocator.calloc(Long.MAX_VALUE / 2, 3));
            rejects(allocator, IllegalArgumentException.class, "overflows", () -> allocator.calloc(-1, 8));
            rejects(allocator, IllegalArgumentException.class, "power of two", () -> allocator.mallocAligned(8, 3));
            rejects(allocator, IllegalArgumentException.class, "power of two", () -> allocator.mallocAligned(8, 0));
            rejects(allocator, IllegalArgumentException.class, "power of two", () -> allocator.mallocAligned(8, -64));
            rejects(allocator, OutOfMemoryError.class, "address space", () -> allocator.mallocAligned(8, 1L << 62));
            long p = allocator.malloc(8);
            rejects(allocator, IllegalArgumentException.class, "negative", () -> allocator.realloc(p, -5));
            allocator.free(p);
        });
    }

    @Test
    void outOfMemoryNamesTheSizeOrLimit() {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().commitLimit(64L << 20).build())) {
            OutOfMemoryError error = assertThrows(OutOfMemoryError.class, () -> allocator.malloc(100L << 20));
            assertTrue(error.getMessage().contains("limit"), error.getMessage());
            assertTrue(error.getMessage().contains(String.valueOf(100L << 20)), error.getMessage());
            allocator.validate();
            long p = allocator.malloc(1000);
            allocator.free(p);
            // a small request that needs a new page past the limit names its own size, not the page's
            List<Long> filled = new ArrayList<>();
            OutOfMemoryError small = assertThrows(OutOfMemoryError.class, () -> {
                while (true) {
                    filled.add(allocator.malloc(24));
                }
            });
            assertTrue(small.getMessage().contains("cannot allocate 24 bytes"), small.getMessage());
            assertTrue(small.getMessage().contains("limit"), small.getMessage());
            filled.forEach(allocator::free);
            assertThrows(OutOfMemoryError.class, () -> allocator.malloc(Long.MAX_VALUE / 4));
            allocator.validate();
        }
    }

    @Test
    void heapUsedFromAnotherThread() {
        withAllocator(allocator -> {
            Heap heap = allocator.heap();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            OtherThread.run(() -> thrown.set(assertThrows(WrongThreadException.class, () -> heap.malloc(16))));
            assertTrue(thrown.get().getMessage().contains("belongs to thread"));
            allocator.validate();
        });
    }

    @Test
    void aRefusedMallocFromAnotherThreadLeavesTheHeapAsItWas() {
        withAllocator(allocator -> {
            Heap heap = allocator.heap();
            Arena arena = allocator.newArena();
            List<Long> blocks = new ArrayList<>();
            List<MemorySegment> segments = new ArrayList<>();
            for (int i = 0; i < 5000; i++) { // more than a page of 16-byte blocks: the current page is full
                blocks.add(heap.malloc(16));
                segments.add(arena.allocate(16));
            }
            for (int i = 0; i < blocks.size(); i += 2) { // the owner's frees wait on the page's local list
                heap.free(blocks.get(i));
                allocator.free(segments.get(i));
            }
            // the fast path used to take the local list before it checked the thread, and lost it when it threw
            OtherThread.run(() -> rejects(allocator, WrongThreadException.class, "belongs to thread",
                    () -> heap.malloc(16)));
            OtherThread.run(() -> rejects(allocator, WrongThreadException.class, "belongs to thread",
                    () -> arena.allocate(16)));
            for (int i = 1; i < blocks.size(); i += 2) {
                heap.free(blocks.get(i));
            }
            arena.close();
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        });
    }

    @Test
    void closingTheAllocatorEndsItsOpenArenasFirst() throws InterruptedException {
        Allocator allocator = Allocator.create();
        MemorySegment mine = allocator.newArena().allocate(1 << 20);
        CountDownLatch opened = new CountDownLatch(1);
        CountDownLatch mayClose = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            try (Arena theirs = allocator.newArena()) {
                theirs.allocate(64).fill((byte) 1);
                opened.countDown();
                mayClose.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        other.start();
        opened.await();
        // another live thread's arena: its segments would outlive the memory under them
        Throwable thrown = assertThrows(IllegalStateException.class, allocator::close);
        assertTrue(thrown.getMessage().contains("arena"), thrown.getMessage());
        allocator.validate(); // still open
        mine.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        mayClose.countDown();
        other.join();
        allocator.close();
        // this thread's arena was closed with the allocator: an access used to hit unmapped memory (SIGSEGV)
        assertFalse(mine.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> mine.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void tooLargeRequestsNameTheSizeAsked() {
        withAllocator(allocator -> {
            for (long size : new long[] {Long.MAX_VALUE - 16, Long.MAX_VALUE - 31, 1L << 62}) {
                // the size used to be rounded up to the block size first, and the error named that instead
                rejects(allocator, OutOfMemoryError.class, Long.toString(size), () -> allocator.malloc(size));
                rejects(allocator, OutOfMemoryError.class, Long.toString(size),
                        () -> allocator.mallocAligned(size, 4096));
            }
        });
    }

    @Test
    void everyCallAfterCloseIsRefused() {
        Allocator allocator = Allocator.create();
        long p = allocator.malloc(10);
        Heap heap = allocator.heap();
        allocator.close();
        allocator.close(); // idempotent
        for (Runnable call : new Runnable[] {() -> allocator.malloc(10), () -> allocator.free(p),
                () -> heap.malloc(10), () -> heap.malloc(1 << 20), () -> allocator.usableSize(p),
                () -> allocator.owns(p), allocator::stats, allocator::validate, allocator::newArena,
                () -> allocator.realloc(p, 100), () -> allocator.calloc(1, 1), () -> allocator.collect(true),
                allocator::heap}) {
            Throwable thrown = assertThrows(IllegalStateException.class, call::run);
            assertTrue(thrown.getMessage().contains("closed"), thrown.getMessage());
        }
    }

}
