package dev.cairn.alloc;

import static dev.cairn.alloc.ContractSupport.KiB;
import static dev.cairn.alloc.ContractSupport.MiB;
import static dev.cairn.alloc.ContractSupport.assertAllBytes;
import static dev.cairn.alloc.ContractSupport.assertRefused;
import static dev.cairn.alloc.ContractSupport.assertZero;
import static dev.cairn.alloc.ContractSupport.at;
import static dev.cairn.alloc.ContractSupport.onThread;
import static dev.cairn.alloc.ContractSupport.rssBytes;
import static dev.cairn.alloc.ContractSupport.stamp;
import static dev.cairn.alloc.ContractSupport.verify;
import static dev.cairn.alloc.ContractSupport.walk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 3 (the allocator core and its public API), read sentence by sentence as a new user would, each behaviour it
 * states checked through the public API alone; plus the spirit of mimalloc's test-api.c and test-api-fill.c carried
 * over to this API. Every scenario ends with {@code validate()}.
 */
class IssueThreeContractTest {

    private static final long SEED = Long.getLong("cairn.test.seed", System.nanoTime());

    static {
        System.out.println("IssueThreeContractTest seed " + SEED + " (replay with -Dcairn.test.seed=" + SEED + ")");
    }

    // ------------------------------------------------------------------ "Allocator extends SegmentAllocator, ..."

    @Test
    void anAllocatorIsASegmentAllocatorAndAutoCloseableMadeByCreate() throws Exception {
        AllocatorConfig config = AllocatorConfig.builder().segmentSize(8 * MiB).purgeDelay(Duration.ZERO).build();
        try (Allocator byDefault = Allocator.create(); Allocator configured = Allocator.create(config)) {
            assertInstanceOf(SegmentAllocator.class, byDefault);
            assertInstanceOf(AutoCloseable.class, byDefault);
            assertTrue(byDefault.config().checked(), "the default mode is checked");
            assertTrue(byDefault.stats().checked());
            assertEquals(config, configured.config());
            assertEquals(AllocatorConfig.DEFAULT_PURGE_DELAY, AllocatorConfig.defaults().purgeDelay());
            assertEquals(Duration.ofMillis(10), AllocatorConfig.DEFAULT_PURGE_DELAY, "default about 10 ms");
            long p = configured.malloc(10);
            assertTrue(configured.owns(p));
            assertFalse(byDefault.owns(p), "each allocator is an isolated domain");
            configured.free(p);
            byDefault.validate();
            configured.validate();
        }
    }

    // ------------------------------------------------------------------ malloc / usableSize / free

    @Test
    void everySizeFrom0To1024IsUsableToItsEndWithoutOverlap() {
        try (Allocator allocator = Allocator.create()) {
            long[] blocks = new long[1025];
            long[] usable = new long[1025];
            for (int size = 0; size <= 1024; size++) {
                blocks[size] = allocator.malloc(size);
                assertNotEquals(0, blocks[size]);
                assertEquals(0, blocks[size] % 16, "malloc blocks are 16-byte aligned, size " + size);
                usable[size] = allocator.usableSize(blocks[size]);
                assertTrue(usable[size] >= size, "usable " + usable[size] + " < asked " + size);
                stamp(blocks[size], usable[size], size); // all of it writable
            }
            Map<Long, Long> seen = walk(allocator);
            assertEquals(1025, seen.size(), "the walk sees exactly the live blocks");
            for (int size = 0; size <= 1024; size++) {
                verify(blocks[size], usable[size], size);
                assertEquals(usable[size], seen.get(blocks[size]), "walked usable size of size " + size);
            }
            List<Integer> order = new ArrayList<>();
            for (int size = 0; size <= 1024; size++) {
                order.add(size);
            }
            Collections.shuffle(order, new Random(SEED));
            for (int size : order) {
                allocator.free(blocks[size]);
            }
            assertEquals(0, allocator.stats().blocksInUse());
            assertTrue(walk(allocator).isEmpty());
            allocator.validate();
        }
    }

    @ParameterizedTest(name = "segment size {0}")
    @ValueSource(longs = {4 << 20, 32 << 20})
    void everySizeClassBoundaryUpToHugeIsUsableToItsEnd(long segmentSize) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(segmentSize).build())) {
            Map<Long, long[]> live = new LinkedHashMap<>(); // address -> {usable, seed}
            long seed = 0;
            for (int shift = 3; shift <= 22; shift++) {
                for (long size : new long[] {(1L << shift) - 1, 1L << shift, (1L << shift) + 1,
                        (1L << shift) + (1L << shift) / 2}) {
                    long p = allocator.malloc(size);
                    long usable = allocator.usableSize(p);
                    assertTrue(usable >= size, size + ": usable " + usable);
                    stamp(p, usable, ++seed);
                    assertTrue(live.put(p, new long[] {usable, seed}) == null, "address handed out twice");
                }
            }
            // blocks past the segment size (huge blocks of their own), one at a time
            long segment = allocator.config().segmentSize();
            for (long size : new long[] {segment - 1, segment, segment + 1, 2 * segment + 4097}) {
                long p = allocator.malloc(size);
                long usable = allocator.usableSize(p);
                assertTrue(usable >= size);
                stamp(p, usable, ++seed);
                verify(p, usable, seed);
                assertEquals(Map.of(p, usable), filter(walk(allocator), Set.of(p)));
                allocator.free(p);
                assertFalse(allocator.isLive(p));
            }
            assertEquals(live.keySet(), walk(allocator).keySet(), "the walk sees exactly the live blocks");
            for (Map.Entry<Long, long[]> e : live.entrySet()) {
                verify(e.getKey(), e.getValue()[0], e.getValue()[1]);
                allocator.free(e.getKey());
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    private static Map<Long, Long> filter(Map<Long, Long> walked, Set<Long> keep) {
        Map<Long, Long> out = new HashMap<>(walked);
        out.keySet().retainAll(keep);
        return out;
    }

    @Test
    void mallocOfZeroGivesDistinctFreeableBlocks() {
        try (Allocator allocator = Allocator.create()) {
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < 1000; i++) {
                long p = allocator.malloc(0);
                assertNotEquals(0, p, "malloc(0) is not NULL (mimalloc's malloc-zero)");
                assertTrue(seen.add(p), "malloc(0) handed out 0x" + Long.toHexString(p) + " twice");
                assertTrue(allocator.usableSize(p) >= 0);
            }
            assertEquals(seen, walk(allocator).keySet());
            seen.forEach(allocator::free);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void freeOfZeroDoesNothingAsInCEvenThroughTheHeapAndAfterClose() {
        Allocator allocator = Allocator.create();
        long p = allocator.malloc(64);
        AllocatorStats before = allocator.stats();
        allocator.free(0);
        allocator.heap().free(0);
        allocator.free(MemorySegment.NULL); // the FFM spelling of NULL
        AllocatorStats after = allocator.stats();
        assertEquals(before.blocksInUse(), after.blocksInUse());
        assertTrue(allocator.isLive(p));
        allocator.validate();
        allocator.close();
        allocator.free(0); // still a no-op once closed
    }

    @Test
    void negativeSizesAreIllegalArgumentsEverywhere() {
        try (Allocator allocator = Allocator.create(); Arena arena = allocator.newArena()) {
            Heap heap = allocator.heap();
            long p = allocator.malloc(32);
            for (long bad : new long[] {-1, -16, Long.MIN_VALUE}) {
                List<Executable> calls = List.of(() -> allocator.malloc(bad), () -> heap.malloc(bad),
                        () -> allocator.mallocAligned(bad, 64), () -> heap.mallocAligned(bad, 64),
                        () -> allocator.allocate(bad, 8), () -> allocator.allocate(bad),
                        () -> arena.allocate(bad, 8), () -> allocator.realloc(p, bad), () -> heap.realloc(p, bad),
                        () -> allocator.realloc(0, bad), () -> allocator.calloc(bad, 8), () -> allocator.calloc(8, bad),
                        () -> heap.calloc(bad, 1));
                for (Executable call : calls) {
                    AllocatorStats before = allocator.stats();
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, "size " + bad);
                    assertTrue(e.getMessage().contains(Long.toString(bad)), "names the size: " + e.getMessage());
                    assertEquals(before.blocksInUse(), allocator.stats().blocksInUse());
                }
            }
            assertTrue(allocator.isLive(p), "a refused realloc leaves its block alone");
            allocator.free(p);
            allocator.validate();
        }
    }

    @Test
    void noMemoryIsAnOutOfMemoryErrorNamingTheSizeAndTheAllocatorGoesOn() {
        try (Allocator allocator = Allocator.create()) {
            long p = allocator.malloc(100);
            stamp(p, 100, 1);
            for (long size : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 15, 1L << 62, 1L << 50}) {
                OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> allocator.malloc(size));
                assertTrue(e.getMessage().contains(Long.toString(size)), "names the size: " + e.getMessage());
                e = assertThrows(OutOfMemoryError.class, () -> allocator.mallocAligned(size, 4096));
                assertTrue(e.getMessage().contains(Long.toString(size)), "names the size: " + e.getMessage());
                e = assertThrows(OutOfMemoryError.class, () -> allocator.calloc(1, size));
                assertTrue(e.getMessage().contains(Long.toString(size)), "names the size: " + e.getMessage());
                e = assertThrows(OutOfMemoryError.class, () -> allocator.allocate(size, 8));
                assertTrue(e.getMessage().contains(Long.toString(size)), "names the size: " + e.getMessage());
                // mimalloc's posix_memalign_nomem: the block is left where it was
                e = assertThrows(OutOfMemoryError.class, () -> allocator.realloc(p, size));
                assertTrue(e.getMessage().contains(Long.toString(size)), "names the size: " + e.getMessage());
                verify(p, 100, 1);
                assertTrue(allocator.isLive(p));
            }
            allocator.validate();
            assertEquals(1, allocator.stats().blocksInUse());
            allocator.free(p);
            allocator.free(allocator.malloc(1000));
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ calloc

    @ParameterizedTest(name = "segment size {0}")
    @ValueSource(longs = {4 << 20, 32 << 20})
    void callocZeroesEveryKindOfBlockEvenWhereDirtyMemoryIsReused(long segmentSize) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ofHours(1))
                .segmentSize(segmentSize).build())) {
            long segment = allocator.config().segmentSize();
            long[] sizes = {1, 8, 16, 100, 1000, 4096, 8 * KiB + 1, 60 * KiB, 300 * KiB, 600 * KiB, 3 * MiB,
                segment + 100};
            for (long size : sizes) {
                // dirty memory of this size first, freed, so calloc's block is likely to reuse it
                long dirty = allocator.malloc(size);
                assertAllBytesAfterFill(dirty, allocator.usableSize(dirty));
                allocator.free(dirty);
                long[] counts = {1, 2, 3};
                for (long count : counts) {
                    long each = Math.max(1, size / count);
                    long p = allocator.calloc(count, each);
                    assertZero(p, count * each, "calloc(" + count + ", " + each + ")");
                    assertTrue(allocator.usableSize(p) >= count * each);
                    at(p, count * each).fill((byte) 0x5A);
                    allocator.free(p);
                }
                long q = allocator.heap().calloc(size, 1);
                assertZero(q, size, "heap().calloc(" + size + ", 1)");
                allocator.free(q);
            }
            allocator.validate();
        }
    }

    private static void assertAllBytesAfterFill(long address, long usable) {
        at(address, usable).fill((byte) 0xA5);
        assertAllBytes(address, usable, (byte) 0xA5, "filled block");
    }

    @Test
    void callocOfZeroItemsOrZeroBytesGivesAMinimalFreeableBlock() {
        try (Allocator allocator = Allocator.create()) {
            long a = allocator.calloc(0, 1000);
            long b = allocator.calloc(1000, 0);
            long c = allocator.calloc(0, 0);
            assertNotEquals(0, a);
            assertNotEquals(a, b);
            assertNotEquals(b, c);
            assertTrue(allocator.usableSize(a) <= 16, "mimalloc's calloc0: " + allocator.usableSize(a));
            allocator.free(a);
            allocator.free(b);
            allocator.free(c);
            allocator.validate();
        }
    }

    @Test
    void callocWhoseProductOverflowsIsAnIllegalArgument() {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long[][] bad = {{Long.MAX_VALUE, 2}, {2, Long.MAX_VALUE}, {1L << 32, 1L << 32}, {1L << 62, 4},
                {3, Long.MAX_VALUE / 2}, {-1, -1}, {Long.MIN_VALUE, -1}, {-1, Long.MIN_VALUE}, {-2, -4},
                {0x7FFFFFFFL, 0x100000003L}, {Long.MAX_VALUE, Long.MAX_VALUE}};
            for (long[] pair : bad) {
                AllocatorStats before = allocator.stats();
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> allocator.calloc(pair[0], pair[1]), pair[0] + " * " + pair[1]);
                assertTrue(e.getMessage().contains(Long.toString(pair[0])), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> heap.calloc(pair[0], pair[1]));
                assertEquals(before.blocksInUse(), allocator.stats().blocksInUse());
            }
            // a product that does not overflow but is too large is no memory, not a bad argument
            assertThrows(OutOfMemoryError.class, () -> allocator.calloc(1L << 31, 1L << 31));
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ realloc

    @ParameterizedTest(name = "segment size {0}")
    @ValueSource(longs = {4 << 20, 32 << 20})
    void reallocKeepsContentsUpToTheSmallerSizeGrowingHugeAndBack(long segmentSize) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(segmentSize).build())) {
            long segment = allocator.config().segmentSize();
            long[] sizes = {1, 16, 17, 100, 1000, 9000, 70_000, 600_000, 3 * MiB, segment + 1, 2 * segment, 70_000,
                5000, 100, 5, 0, 300, segment * 2 + 3, 1};
            long seed = SEED;
            long p = allocator.realloc(0, sizes[0]); // realloc of NULL is malloc
            stamp(p, sizes[0], seed);
            long current = sizes[0];
            for (int i = 1; i < sizes.length; i++) {
                long next = sizes[i];
                long q = allocator.realloc(p, next);
                assertTrue(allocator.usableSize(q) >= next, "usable after realloc to " + next);
                verify(q, Math.min(current, next), seed); // contents kept up to the smaller size
                if (q != p) {
                    assertFalse(allocator.isLive(p), "a moved block's old address is freed");
                }
                stamp(q, next, ++seed);
                p = q;
                current = next;
                assertEquals(1, allocator.stats().blocksInUse(), "one block in use after realloc to " + next);
            }
            allocator.free(p);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void reallocWithinTheUsableSizeIsInPlace() {
        try (Allocator allocator = Allocator.create()) {
            for (long size : new long[] {1, 24, 100, 1000, 10_000, 100_000, 1_000_000, 40 * MiB}) {
                long p = allocator.malloc(size);
                long usable = allocator.usableSize(p);
                stamp(p, usable, size);
                assertEquals(p, allocator.realloc(p, usable), "realloc to the usable size " + usable);
                assertEquals(p, allocator.realloc(p, usable - usable / 4), "realloc within the usable size");
                assertEquals(p, allocator.heap().realloc(p, usable));
                verify(p, usable, size);
                allocator.free(p);
            }
            allocator.validate();
        }
    }

    @Test
    void reallocOfZeroIsMallocAndToZeroGivesAMinimalBlock() {
        try (Allocator allocator = Allocator.create()) {
            long a = allocator.realloc(0, 4); // mimalloc's realloc-null
            assertNotEquals(0, a);
            assertTrue(allocator.usableSize(a) >= 4);
            long b = allocator.realloc(0, 0); // realloc-null-sizezero
            assertNotEquals(0, b);
            long c = allocator.malloc(4);
            long d = allocator.realloc(c, 0); // realloc-sizezero: a block, not NULL
            assertNotEquals(0, d);
            assertTrue(allocator.isLive(d));
            if (d != c) {
                assertFalse(allocator.isLive(c));
            }
            long e = allocator.malloc(100_000);
            long f = allocator.realloc(e, 0); // a minimal block: no longer the large one
            assertTrue(allocator.usableSize(f) <= 16, "realloc(p, 0) gives a minimal block: "
                    + allocator.usableSize(f));
            for (long x : new long[] {a, b, d, f}) {
                allocator.free(x);
            }
            // the mimalloc issue #1304 pattern: one pointer reallocated through growing sizes, many times
            long shared = 0;
            for (int round = 0; round < 16; round++) {
                for (int i = 0; i < 1024; i++) {
                    shared = allocator.realloc(shared, i * 64L);
                }
            }
            allocator.free(shared);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    // ------------------------------------------------------------------ mallocAligned

    @ParameterizedTest(name = "segment size {0}")
    @ValueSource(longs = {4 << 20, 32 << 20})
    void mallocAlignedHonoursEveryPowerOfTwoUpToAtLeastOneMiBAndTheSegmentSize(long segmentSize) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(segmentSize).build())) {
            long segment = allocator.config().segmentSize();
            assertTrue(segment >= MiB);
            Map<Long, long[]> live = new HashMap<>();
            long seed = 0;
            for (long align = 1; align <= segment; align <<= 1) {
                long[] sizes = align >= 4 * MiB ? new long[] {0, 8, 1024, align / 2 + 1}
                        : new long[] {0, 1, 8, 43 + align, align - 1, align, align + 1, 3 * align, 512, MiB};
                for (long size : sizes) {
                    long p = allocator.mallocAligned(size, align);
                    assertEquals(0, p % align, "mallocAligned(" + size + ", " + align + ") = 0x"
                            + Long.toHexString(p));
                    long usable = allocator.usableSize(p);
                    assertTrue(usable >= size, "mallocAligned(" + size + ", " + align + "): usable " + usable);
                    assertTrue(allocator.owns(p) && allocator.owns(p + usable - 1) || usable == 0);
                    stamp(p, usable, ++seed);
                    assertTrue(live.put(p, new long[] {usable, seed}) == null, "address handed out twice");
                }
                // blocks this large are checked and freed alignment by alignment, to bound the memory held
                if (align >= MiB) {
                    freeAll(allocator, live);
                }
            }
            freeAll(allocator, live);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    private static void freeAll(Allocator allocator, Map<Long, long[]> live) {
        assertEquals(live.keySet(), walk(allocator).keySet(), "the walk sees exactly the live blocks");
        for (Map.Entry<Long, long[]> e : live.entrySet()) {
            verify(e.getKey(), e.getValue()[0], e.getValue()[1]);
            assertEquals(e.getValue()[0], allocator.usableSize(e.getKey()));
            allocator.free(e.getKey());
        }
        live.clear();
        allocator.validate();
    }

    @Test
    void mallocAlignedSmallSizesAtEveryAlignmentUpToTheSize() {
        // mimalloc's malloc-aligned13: sizes to twice the small limit, every alignment up to the size, 10 at a time
        try (Allocator allocator = Allocator.create()) {
            for (long size = 1; size <= 2 * 1024; size += size < 300 ? 1 : 7) {
                for (long align = 1; align <= size; align <<= 1) {
                    long[] blocks = new long[10];
                    for (int i = 0; i < blocks.length; i++) {
                        blocks[i] = allocator.mallocAligned(size, align);
                        assertEquals(0, blocks[i] % align, size + " at " + align);
                        stamp(blocks[i], size, blocks[i]);
                    }
                    for (long b : blocks) {
                        verify(b, size, b);
                        allocator.free(b);
                    }
                }
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void alignmentsLargerThanOneMiBWithLargerSegments() {
        // mimalloc's malloc-aligned9 goes to 2^28; here up to the largest segment size, which bounds alignment
        long segment = 256 * MiB;
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(segment).build())) {
            for (long align = 2 * MiB; align <= segment; align <<= 2) {
                for (long size : new long[] {8, 512, MiB, 4 * MiB + 1}) {
                    long p = allocator.mallocAligned(size, align);
                    assertEquals(0, p % align, size + " at " + align);
                    long usable = allocator.usableSize(p);
                    assertTrue(usable >= size);
                    stamp(p, Math.min(usable, 2 * MiB), p);
                    verify(p, Math.min(usable, 2 * MiB), p);
                    MemorySegment seg = allocator.allocate(size, align);
                    assertEquals(0, seg.address() % align);
                    assertEquals(size, seg.byteSize());
                    allocator.free(seg);
                    allocator.free(p);
                }
            }
            allocator.validate();
        }
    }

    @Test
    void alignmentsThatAreNotPowersOfTwoAreIllegalArguments() {
        try (Allocator allocator = Allocator.create(); Arena arena = allocator.newArena()) {
            Heap heap = allocator.heap();
            long segment = allocator.config().segmentSize();
            for (long bad : new long[] {0, -1, -8, 3, 24, 48, 3 * MiB, Long.MIN_VALUE, Long.MAX_VALUE,
                (1L << 62) + 1}) {
                for (Executable call : List.<Executable>of(() -> allocator.mallocAligned(16, bad),
                        () -> heap.mallocAligned(16, bad), () -> allocator.allocate(16, bad),
                        () -> arena.allocate(16, bad))) {
                    AllocatorStats before = allocator.stats();
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                            "alignment " + bad);
                    assertTrue(e.getMessage().contains(Long.toString(bad)), "names the alignment: " + e.getMessage());
                    assertEquals(before.blocksInUse(), allocator.stats().blocksInUse());
                }
            }
            // larger than the segment size: a block of its own segment, aligned, through every door
            for (long big : new long[] {2 * segment, 4 * segment}) {
                try (Arena scoped = allocator.newArena()) {
                    long p = allocator.mallocAligned(8, big);
                    long q = heap.mallocAligned(8, big);
                    MemorySegment s = allocator.allocate(8, big);
                    MemorySegment t = scoped.allocate(8, big);
                    for (long address : new long[] {p, q, s.address(), t.address()}) {
                        assertEquals(0, address % big, "aligned to " + big + ": 0x" + Long.toHexString(address));
                    }
                    allocator.validate();
                    allocator.free(p);
                    allocator.free(q);
                    allocator.free(s);
                }
            }
            // beyond the address space: out of memory, as the JDK's arenas say it, not a crash or a misaligned block
            long hopeless = 1L << 62;
            assertThrows(OutOfMemoryError.class, () -> allocator.mallocAligned(8, hopeless));
            assertThrows(OutOfMemoryError.class, () -> allocator.allocate(8, hopeless));
            assertThrows(OutOfMemoryError.class, () -> arena.allocate(8, hopeless));
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    // ------------------------------------------------------------------ bad addresses

    @Test
    @SuppressWarnings("restricted")
    void addressesThatAreNotLiveBlocksAreRefusedNamingTheAddressAndNothingChanges() throws Throwable {
        try (Allocator allocator = Allocator.create(); Allocator other = Allocator.create();
                Arena jdk = Arena.ofConfined()) {
            Heap heap = allocator.heap();
            long small = allocator.malloc(48);
            long large = allocator.malloc(100_000);
            long huge = allocator.malloc(allocator.config().segmentSize() + 10);
            long aligned = allocator.mallocAligned(100, 4096);
            stamp(small, 48, 1);
            stamp(large, 100_000, 2);
            long freed = allocator.malloc(48);
            allocator.free(freed);
            long freedHuge = allocator.malloc(allocator.config().segmentSize() + 20);
            long keepHugeSegment = freedHuge; // its address, after the free
            allocator.free(freedHuge);
            long remoteFreed = allocator.malloc(48);
            onThread(() -> allocator.free(remoteFreed));
            long othersBlock = other.malloc(48);
            long segmentBase = small & -allocator.config().segmentSize();
            MethodHandle cMalloc = Linker.nativeLinker().downcallHandle(
                    Linker.nativeLinker().defaultLookup().find("malloc").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            MethodHandle cFree = Linker.nativeLinker().downcallHandle(
                    Linker.nativeLinker().defaultLookup().find("free").orElseThrow(),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            MemorySegment cBlock = (MemorySegment) cMalloc.invokeExact(48L);
            try {
                long[] bad = {small + 1, small + 8, small + 16, large + 64, huge + 4096, huge + 16, aligned + 16,
                    freed, keepHugeSegment, remoteFreed, othersBlock, segmentBase, segmentBase + 64,
                    cBlock.address(), jdk.allocate(64).address(), 1, 16, 4096, 0x3990080L, -1, -16,
                    Long.MIN_VALUE, Long.MAX_VALUE, 1L << 47, (1L << 47) - 16};
                for (long address : bad) {
                    assertRefused(allocator, address, () -> allocator.free(address));
                    assertRefused(allocator, address, () -> heap.free(address));
                    assertRefused(allocator, address, () -> allocator.usableSize(address));
                    assertRefused(allocator, address, () -> heap.usableSize(address));
                    assertRefused(allocator, address, () -> allocator.realloc(address, 100));
                    assertRefused(allocator, address, () -> heap.realloc(address, 100));
                    assertFalse(allocator.isLive(address));
                }
                assertRefused(allocator, 0, () -> allocator.usableSize(0));
                assertRefused(allocator, 0, () -> heap.usableSize(0));
            } finally {
                cFree.invokeExact(cBlock);
            }
            verify(small, 48, 1);
            verify(large, 100_000, 2);
            assertEquals(Set.of(small, large, huge, aligned), walk(allocator).keySet());
            for (long p : new long[] {small, large, huge, aligned}) {
                allocator.free(p);
                assertRefused(allocator, p, () -> allocator.free(p)); // double free
            }
            other.free(othersBlock);
            allocator.validate();
            other.validate();
        }
    }

    @Test
    void anyAddressInsideLiveSegmentsThatIsNotALiveBlockIsRefusedWithNothingChanged() throws Exception {
        Random random = new Random(SEED);
        try (Allocator allocator = Allocator.create()) {
            long segment = allocator.config().segmentSize();
            Map<Long, long[]> live = new HashMap<>();
            List<Long> freed = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                long size = random.nextInt(30) == 0 ? random.nextInt(700_000) : random.nextInt(3000);
                long p = allocator.malloc(size);
                stamp(p, size, i);
                live.put(p, new long[] {size, i});
                if (random.nextInt(4) == 0) {
                    allocator.free(p);
                    live.remove(p);
                    freed.add(p);
                }
            }
            long huge = allocator.malloc(segment + 12345);
            live.put(huge, new long[] {0, 0});
            long[] abandoned = new long[1];
            onThread(() -> { // an abandoned segment too
                abandoned[0] = allocator.malloc(200);
                allocator.free(allocator.malloc(200));
                allocator.releaseCurrentThread();
            });
            live.put(abandoned[0], new long[] {0, 0});
            List<Long> bases = new ArrayList<>();
            for (long p : live.keySet()) {
                bases.add(p & -segment);
            }
            AllocatorStats before = allocator.stats();
            int refused = 0;
            for (int i = 0; i < 4000; i++) {
                long address = switch (random.nextInt(4)) {
                    case 0 -> bases.get(random.nextInt(bases.size())) + random.nextLong(segment);
                    case 1 -> freed.get(random.nextInt(freed.size())) + random.nextInt(64) - 32;
                    case 2 -> huge + random.nextLong(segment);
                    default -> (bases.get(random.nextInt(bases.size())) + random.nextLong(segment)) & -16;
                };
                if (live.containsKey(address)) {
                    continue;
                }
                long a = address;
                for (Executable call : List.<Executable>of(() -> allocator.free(a), () -> allocator.usableSize(a),
                        () -> allocator.realloc(a, 10))) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                            "seed " + SEED + ": 0x" + Long.toHexString(a));
                    assertTrue(e.getMessage().contains("0x" + Long.toHexString(a)), e.getMessage());
                }
                assertFalse(allocator.isLive(a));
                refused++;
            }
            AllocatorStats after = allocator.stats();
            assertTrue(refused > 2000);
            assertEquals(before.blocksInUse(), after.blocksInUse());
            assertEquals(before.allocatedBytes(), after.allocatedBytes());
            assertEquals(live.keySet(), walk(allocator).keySet());
            allocator.validate();
            for (Map.Entry<Long, long[]> e : live.entrySet()) {
                verify(e.getKey(), e.getValue()[0], e.getValue()[1]);
                allocator.free(e.getKey());
            }
            allocator.validate();
        }
    }

    @Test
    void ownsAnswersForAnyByteOfALiveSegment() {
        try (Allocator allocator = Allocator.create(); Allocator other = Allocator.create()) {
            long p = allocator.malloc(1000);
            long huge = allocator.malloc(allocator.config().segmentSize() * 2);
            for (long a : new long[] {p, p + 1, p + 999, huge, huge + allocator.config().segmentSize() * 2 - 1}) {
                assertTrue(allocator.owns(a), "0x" + Long.toHexString(a));
                assertFalse(other.owns(a), "another domain's 0x" + Long.toHexString(a));
            }
            for (long a : new long[] {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 47}) {
                assertFalse(allocator.owns(a), "0x" + Long.toHexString(a));
            }
            allocator.free(p);
            allocator.free(huge);
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ SegmentAllocator

    @Test
    void allocateGivesAnAlignedSegmentOfTheSizeAskedSoAllocateFromWorks() {
        try (Allocator allocator = Allocator.create()) {
            MemorySegment s = allocator.allocate(100, 64);
            assertEquals(100, s.byteSize());
            assertEquals(0, s.address() % 64);
            assertTrue(s.isNative());
            assertTrue(s.scope().isAlive());
            assertTrue(allocator.isLive(s.address()));
            s.fill((byte) 7);
            MemorySegment text = allocator.allocateFrom("hello, cairn");
            assertEquals("hello, cairn", text.getString(0));
            MemorySegment ints = allocator.allocateFrom(ValueLayout.JAVA_INT, 1, 2, 3, 4);
            assertEquals(16, ints.byteSize());
            assertEquals(3, ints.getAtIndex(ValueLayout.JAVA_INT, 2));
            MemorySegment longs = allocator.allocate(ValueLayout.JAVA_LONG, 10);
            assertEquals(80, longs.byteSize());
            assertEquals(0, longs.address() % 8);
            MemorySegment one = allocator.allocate(ValueLayout.JAVA_DOUBLE);
            assertEquals(8, one.byteSize());
            MemorySegment empty = allocator.allocate(0, 1);
            assertEquals(0, empty.byteSize());
            MemorySegment plain = allocator.allocate(33);
            assertEquals(33, plain.byteSize());
            assertEquals(Set.of(s.address(), text.address(), ints.address(), longs.address(), one.address(),
                    empty.address(), plain.address()), walk(allocator).keySet());
            for (MemorySegment seg : List.of(s, text, ints, longs, one, empty, plain)) {
                allocator.free(seg);
                assertFalse(allocator.isLive(seg.address()));
            }
            assertThrows(IllegalArgumentException.class, () -> allocator.free(s)); // double free through FFM
            // an array count that overflows is the JDK's IllegalArgumentException
            assertThrows(IllegalArgumentException.class, () -> allocator.allocate(ValueLayout.JAVA_LONG,
                    Long.MAX_VALUE / 4));
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void freeOfASegmentThatIsNotOneOfOursIsRefused() {
        try (Allocator allocator = Allocator.create(); Allocator other = Allocator.create();
                Arena jdk = Arena.ofConfined()) {
            MemorySegment ours = allocator.allocate(64, 16);
            List<MemorySegment> bad = List.of(MemorySegment.ofArray(new byte[64]), jdk.allocate(64),
                    ours.asSlice(16), other.allocate(64, 16));
            for (MemorySegment seg : bad) {
                AllocatorStats before = allocator.stats();
                assertThrows(IllegalArgumentException.class, () -> allocator.free(seg), seg.toString());
                assertEquals(before.blocksInUse(), allocator.stats().blocksInUse());
            }
            assertTrue(allocator.isLive(ours.address()));
            allocator.free(ours);
            other.free(bad.get(3));
            allocator.validate();
            other.validate();
        }
    }

    @Test
    void afterCloseTheSegmentsOfAllocateCannotBeAccessed() {
        Allocator allocator = Allocator.create();
        MemorySegment s = allocator.allocate(64, 8);
        s.set(ValueLayout.JAVA_LONG, 0, 42);
        allocator.close();
        assertFalse(s.scope().isAlive(), "the allocator's scope ends with close()");
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_LONG, 0));
        assertThrows(IllegalStateException.class, () -> allocator.free(s));
    }

    // ------------------------------------------------------------------ heap()

    @Test
    void theHeapHasTheSameOperationsAndFreesAnyBlockOfTheAllocator() {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long a = heap.malloc(100);
            long b = heap.calloc(10, 10);
            assertZero(b, 100, "heap calloc");
            long c = heap.mallocAligned(100, 256);
            assertEquals(0, c % 256);
            long d = heap.realloc(heap.malloc(10), 5000);
            assertTrue(heap.usableSize(d) >= 5000);
            long e = allocator.malloc(77);
            long[] fromOther = new long[1];
            onThread(() -> fromOther[0] = allocator.malloc(200));
            heap.free(e); // a block of the allocator, whichever way it came
            heap.free(fromOther[0]); // another thread's heap's block
            for (long p : new long[] {a, b, c}) {
                allocator.free(p);
            }
            allocator.heap().free(d);
            allocator.collect(false); // the ended thread's heap collects the free it was sent (documented lag)
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void aHeapUsedFromAnotherThreadIsAWrongThreadExceptionInCheckedMode() {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long p = heap.malloc(32);
            onThread(() -> {
                AllocatorStats before = allocator.stats();
                assertThrows(WrongThreadException.class, () -> heap.malloc(32));
                assertThrows(WrongThreadException.class, () -> heap.calloc(2, 32));
                assertThrows(WrongThreadException.class, () -> heap.mallocAligned(32, 64));
                assertThrows(WrongThreadException.class, () -> heap.realloc(0, 32));
                assertThrows(WrongThreadException.class, heap::release);
                assertEquals(before.blocksInUse(), allocator.stats().blocksInUse());
                heap.free(p); // free is accepted from any thread
            });
            assertFalse(allocator.isLive(p));
            heap.free(heap.malloc(32)); // its owner goes on
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ newArena

    @Test
    void anArenaBehavesLikeArenaOfConfined() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            Arena arena = allocator.newArena();
            MemorySegment s = arena.allocate(64, 8);
            assertEquals(64, s.byteSize());
            assertSame(arena.scope(), s.scope());
            assertTrue(s.isAccessibleBy(Thread.currentThread()));
            s.set(ValueLayout.JAVA_LONG, 8, 99);
            AtomicInteger wrong = new AtomicInteger();
            onThread(() -> {
                assertFalse(s.isAccessibleBy(Thread.currentThread()));
                try {
                    arena.allocate(16);
                } catch (WrongThreadException e) {
                    wrong.incrementAndGet();
                }
                try {
                    s.get(ValueLayout.JAVA_LONG, 8);
                } catch (WrongThreadException e) {
                    wrong.incrementAndGet();
                }
                try {
                    arena.close();
                } catch (WrongThreadException e) {
                    wrong.incrementAndGet();
                }
            });
            assertEquals(3, wrong.get(), "allocate, access and close from another thread are WrongThreadException");
            assertTrue(arena.scope().isAlive());
            assertEquals(99, s.get(ValueLayout.JAVA_LONG, 8));
            MemorySegment empty = arena.allocate(0);
            assertEquals(0, empty.byteSize());
            assertEquals("x", arena.allocateFrom("x").getString(0));
            arena.close();
            assertFalse(arena.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_LONG, 8));
            assertThrows(IllegalStateException.class, () -> arena.allocate(16));
            assertThrows(IllegalStateException.class, arena::close, "closing twice, as Arena.ofConfined()");
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @ParameterizedTest(name = "segment size {0}")
    @ValueSource(longs = {4 << 20, 32 << 20})
    void anArenasSegmentsAreZeroedEvenOverDirtyMemory(long segmentSize) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ofHours(1))
                .segmentSize(segmentSize).build())) {
            long segment = allocator.config().segmentSize();
            long[][] shapes = {{8, 8}, {100, 16}, {1000, 64}, {5000, 4096}, {70_000, 8}, {600_000, 8},
                {3 * MiB, MiB}, {segment + 5, 16}, {MiB, 2 * MiB}, {100, segment}};
            for (int round = 0; round < 3; round++) {
                // dirty blocks of every shape first, freed, so the arena's heap may get their memory
                List<Long> dirty = new ArrayList<>();
                for (long[] shape : shapes) {
                    long p = allocator.mallocAligned(shape[0], shape[1]);
                    at(p, allocator.usableSize(p)).fill((byte) 0xEE);
                    dirty.add(p);
                }
                dirty.forEach(allocator::free);
                try (Arena arena = allocator.newArena()) {
                    for (long[] shape : shapes) {
                        MemorySegment s = arena.allocate(shape[0], shape[1]);
                        assertEquals(0, s.address() % shape[1]);
                        assertEquals(shape[0], s.byteSize());
                        assertZero(s.address(), s.byteSize(), "arena.allocate(" + shape[0] + ", " + shape[1] + ")");
                        s.fill((byte) 0xDD);
                    }
                }
                allocator.validate();
            }
        }
    }

    @Test
    void closingAnArenaReleasesAllItsBlocksAtOnce() {
        try (Allocator allocator = Allocator.create()) {
            long keep = allocator.malloc(500);
            stamp(keep, 500, 3);
            AllocatorStats before = allocator.stats();
            Arena arena = allocator.newArena();
            List<MemorySegment> segments = new ArrayList<>();
            Random random = new Random(SEED);
            for (int i = 0; i < 2000; i++) {
                segments.add(arena.allocate(1 + random.nextInt(3000), 1L << random.nextInt(8)));
            }
            segments.add(arena.allocate(allocator.config().segmentSize() + 1));
            segments.add(arena.allocate(MiB, 2 * MiB));
            Map<Long, Long> walked = walk(allocator);
            for (MemorySegment s : segments) {
                assertTrue(walked.containsKey(s.address()), "the walk sees arena blocks too");
                assertTrue(allocator.isLive(s.address()));
            }
            // the allocator may free an arena's block early, as free(long) would
            allocator.free(segments.remove(0));
            arena.close(); // mimalloc's heap destroy: no free per block
            AllocatorStats after = allocator.stats();
            assertEquals(before.blocksInUse(), after.blocksInUse());
            assertEquals(before.allocatedBytes(), after.allocatedBytes());
            assertEquals(Set.of(keep), walk(allocator).keySet());
            List<MemorySegment> probes = new ArrayList<>(segments.subList(0, 20));
            probes.addAll(segments.subList(segments.size() - 2, segments.size())); // the huge ones (heap-os1)
            for (MemorySegment s : probes) {
                assertFalse(allocator.isLive(s.address()));
                assertThrows(IllegalArgumentException.class, () -> allocator.free(s), "its scope is closed");
            }
            verify(keep, 500, 3);
            allocator.free(keep);
            allocator.validate();
        }
    }

    @Test
    void anArenaCloseGivesItsMemoryBackToTheOs() {
        // mimalloc's heap-os2: a heap of forced OS allocations destroyed, then collect: back where it started
        try (Allocator allocator = Allocator.create()) {
            allocator.collect(true);
            AllocatorStats start = allocator.stats();
            try (Arena arena = allocator.newArena()) {
                for (int i = 0; i < 10; i++) {
                    arena.allocate(MiB, 2 * MiB).set(ValueLayout.JAVA_INT, 0, 42);
                }
                for (int i = 0; i < 10_000; i++) {
                    arena.allocate(100).set(ValueLayout.JAVA_INT, 0, i);
                }
            }
            allocator.collect(true);
            AllocatorStats end = allocator.stats();
            assertEquals(start.pages(), end.pages(), "pages");
            assertEquals(start.liveSegments(), end.liveSegments(), "segments");
            assertEquals(start.allocatedBytes(), end.allocatedBytes());
            // committedBytes keeps counting the arena's purged segments: kept mapped until close (documented)
            assertTrue(end.committedBytes() <= end.purgedBytes() + start.committedBytes(), "committed "
                    + start.committedBytes() + " -> " + end.committedBytes() + ", purged " + end.purgedBytes());
            allocator.validate();
        }
    }

    @Test
    void anArenaWorksWhereverTheFfmApiTakesOne() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle strlen = linker.downcallHandle(linker.defaultLookup().find("strlen").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        MethodHandle qsort = linker.downcallHandle(linker.defaultLookup().find("qsort").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.ADDRESS));
        MethodHandle compare = java.lang.invoke.MethodHandles.lookup().findStatic(IssueThreeContractTest.class,
                "compareInts", java.lang.invoke.MethodType.methodType(int.class, MemorySegment.class,
                        MemorySegment.class));
        AtomicBoolean cleaned = new AtomicBoolean();
        try (Allocator allocator = Allocator.create()) {
            try (Arena arena = allocator.newArena()) {
                MemorySegment text = arena.allocateFrom("sixteen chars!!!");
                assertEquals(16L, (long) strlen.invokeExact(text));
                MemorySegment ints = arena.allocateFrom(ValueLayout.JAVA_INT, 5, 3, 9, 1, 7);
                MemorySegment comparator = linker.upcallStub(compare, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT),
                        ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT)), arena);
                qsort.invokeExact(ints, 5L, 4L, comparator);
                assertEquals(List.of(1, 3, 5, 7, 9), java.util.Arrays.stream(ints.toArray(ValueLayout.JAVA_INT))
                        .boxed().toList());
                MemorySegment.ofAddress(text.address()).reinterpret(16, arena, seg -> cleaned.set(true));
            }
            assertTrue(cleaned.get(), "a cleanup attached to the arena runs on its close");
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    static int compareInts(MemorySegment a, MemorySegment b) {
        return Integer.compare(a.get(ValueLayout.JAVA_INT, 0), b.get(ValueLayout.JAVA_INT, 0));
    }

    @Test
    void randomOperationsAgreeWithASimpleModelOfTheLiveBlocks() {
        long seed = SEED;
        Random random = new Random(seed);
        try (Allocator allocator = Allocator.create()) {
            Map<Long, long[]> model = new HashMap<>(); // address -> {size, seed}
            List<Long> addresses = new ArrayList<>();
            long stampSeed = 0;
            for (int op = 0; op < 20_000; op++) {
                int kind = random.nextInt(10);
                String what = "seed " + seed + ", op " + op;
                if (kind < 4 || addresses.isEmpty()) {
                    long size = random.nextInt(20) == 0 ? random.nextInt(1_500_000) : random.nextInt(1100);
                    long p = switch (random.nextInt(3)) {
                        case 0 -> allocator.malloc(size);
                        case 1 -> allocator.calloc(1 + random.nextInt(4), size / 4 + 1);
                        default -> allocator.mallocAligned(size, 1L << random.nextInt(16));
                    };
                    if (model.containsKey(p)) {
                        throw new AssertionError(what + ": 0x" + Long.toHexString(p) + " is live already");
                    }
                    long size0 = Math.min(size, allocator.usableSize(p));
                    stamp(p, size0, ++stampSeed);
                    model.put(p, new long[] {size0, stampSeed});
                    addresses.add(p);
                } else if (kind < 7) {
                    long p = addresses.remove(random.nextInt(addresses.size()));
                    long[] block = model.remove(p);
                    verify(p, block[0], block[1]);
                    allocator.free(p);
                } else if (kind < 9) {
                    int i = random.nextInt(addresses.size());
                    long p = addresses.get(i);
                    long[] block = model.remove(p);
                    long newSize = random.nextInt(10) == 0 ? random.nextInt(1_000_000) : random.nextInt(2000);
                    long q = allocator.realloc(p, newSize);
                    verify(q, Math.min(block[0], newSize), block[1]);
                    stamp(q, newSize, ++stampSeed);
                    model.put(q, new long[] {newSize, stampSeed});
                    addresses.set(i, q);
                } else {
                    long p = addresses.get(random.nextInt(addresses.size()));
                    assertTrue(allocator.usableSize(p) >= model.get(p)[0], what);
                    assertTrue(allocator.isLive(p), what);
                }
                if (op % 5000 == 4999) {
                    assertEquals(model.keySet(), walk(allocator).keySet(), what);
                    assertEquals(model.size(), allocator.stats().blocksInUse(), what);
                    allocator.validate();
                }
            }
            for (Map.Entry<Long, long[]> e : model.entrySet()) {
                verify(e.getKey(), e.getValue()[0], e.getValue()[1]);
                allocator.free(e.getKey());
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    // ------------------------------------------------------------------ stats / visitBlocks / validate

    @Test
    void validateFindsAFreeListBrokenByAWriteAfterFree() {
        try (Allocator allocator = Allocator.create()) {
            long keep = allocator.malloc(64);
            long a = allocator.malloc(64);
            long b = allocator.malloc(64);
            allocator.free(a);
            allocator.free(b);
            allocator.validate();
            at(b, 8).set(ValueLayout.JAVA_LONG, 0, b); // the user's bug: a write after free makes a cycle
            IllegalStateException e = assertThrows(IllegalStateException.class, allocator::validate);
            assertTrue(e.getMessage().contains("0x"), e.getMessage());
            at(b, 8).set(ValueLayout.JAVA_LONG, 0, a); // repaired, as it was
            allocator.validate();
            allocator.free(keep);
        }
    }

    @Test
    void statsCountPerSizeClassAndInTotal() {
        try (Allocator allocator = Allocator.create()) {
            AllocatorStats empty = allocator.stats();
            assertEquals(0, empty.blocksInUse());
            assertEquals(0, empty.allocatedBytes());
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                blocks.add(allocator.malloc(100));
            }
            long huge = allocator.malloc(allocator.config().segmentSize() + 1);
            AllocatorStats stats = allocator.stats();
            assertEquals(1001, stats.blocksInUse());
            long usable100 = allocator.usableSize(blocks.get(0));
            assertEquals(1000 * usable100 + allocator.usableSize(huge), stats.allocatedBytes(),
                    "allocated bytes are block sizes");
            AllocatorStats.BinStats bin = stats.bins().stream().filter(b -> b.blockSize() == usable100).findFirst()
                    .orElseThrow(() -> new AssertionError("no bin of " + usable100 + ": " + stats.bins()));
            assertEquals(1000, bin.blocksInUse());
            assertEquals(1000 * usable100, bin.bytesInUse());
            assertTrue(bin.pages() >= 1);
            AllocatorStats.BinStats hugeBin = stats.bins().stream().filter(b -> b.bin() == -1).findFirst()
                    .orElseThrow();
            assertEquals(1, hugeBin.blocksInUse());
            assertEquals(0, hugeBin.blockSize());
            assertEquals(stats.blocksInUse(), stats.bins().stream().mapToLong(AllocatorStats.BinStats::blocksInUse)
                    .sum(), "bins add up to the total");
            assertEquals(stats.allocatedBytes(), stats.bins().stream()
                    .mapToLong(AllocatorStats.BinStats::bytesInUse).sum());
            assertEquals(stats.pages(), stats.bins().stream().mapToLong(AllocatorStats.BinStats::pages).sum(),
                    "pages add up");
            assertTrue(stats.committedBytes() >= stats.allocatedBytes());
            assertTrue(stats.reservedBytes() >= stats.committedBytes());
            assertTrue(stats.peakCommittedBytes() >= stats.committedBytes());
            assertTrue(stats.peakReservedBytes() >= stats.reservedBytes());
            assertTrue(stats.slowPathCalls() > 0);
            assertTrue(stats.heapsLive() >= 1);
            assertTrue(stats.liveSegments() >= 2);
            // cross-thread frees are counted once collected
            List<Long> remote = new ArrayList<>(blocks.subList(0, 500));
            blocks.subList(0, 500).clear();
            onThread(() -> remote.forEach(allocator::free));
            for (int i = 0; i < 600; i++) {
                blocks.add(allocator.malloc(100));
            }
            allocator.collect(true);
            assertTrue(allocator.stats().remoteFrees() >= 500, "remote frees " + allocator.stats().remoteFrees());
            blocks.forEach(allocator::free);
            allocator.free(huge);
            AllocatorStats end = allocator.stats();
            assertEquals(0, end.blocksInUse());
            assertEquals(0, end.allocatedBytes());
            assertTrue(end.peakCommittedBytes() >= stats.committedBytes(), "the peak stays");
            allocator.collect(true);
            assertTrue(allocator.stats().committedBytes() <= empty.committedBytes() + MiB,
                    "collect(true) gave the memory back: " + allocator.stats().committedBytes());
            allocator.validate();
        }
    }

    @Test
    void statsAreAnImmutableSnapshotWithAJsonForm() {
        try (Allocator allocator = Allocator.create()) {
            long p = allocator.malloc(100);
            AllocatorStats snapshot = allocator.stats();
            List<AllocatorStats.BinStats> bins = snapshot.bins();
            assertThrows(UnsupportedOperationException.class, () -> bins.add(bins.get(0)));
            long q = allocator.malloc(100);
            assertEquals(1, snapshot.blocksInUse(), "a snapshot does not change afterwards");
            assertEquals(2, allocator.stats().blocksInUse());
            String json = snapshot.toJson();
            assertTrue(json.startsWith("{") && json.endsWith("}"), json);
            for (RecordComponent component : AllocatorStats.class.getRecordComponents()) {
                assertTrue(json.contains("\"" + component.getName() + "\":"), "json has " + component.getName()
                        + ": " + json);
            }
            assertTrue(json.contains("\"blocksInUse\":1,"), json);
            assertTrue(json.contains("\"checked\":true"), json);
            allocator.free(p);
            allocator.free(q);
            allocator.validate();
        }
    }

    @Test
    void visitBlocksSeesExactlyTheLiveBlocksOfEveryKindAndStopsWhenAsked() throws Exception {
        try (Allocator allocator = Allocator.create(); Arena arena = allocator.newArena()) {
            Random random = new Random(SEED);
            Map<Long, Long> live = new HashMap<>();
            long segment = allocator.config().segmentSize();
            for (int i = 0; i < 3000; i++) {
                long size = switch (random.nextInt(10)) {
                    case 0 -> random.nextInt(600_000);
                    case 1 -> 0;
                    default -> random.nextInt(2000);
                };
                long p = random.nextInt(5) == 0 ? allocator.mallocAligned(size, 1L << random.nextInt(14))
                        : allocator.malloc(size);
                live.put(p, allocator.usableSize(p));
                if (random.nextInt(3) == 0) { // and free a random one
                    long victim = live.keySet().iterator().next();
                    allocator.free(victim);
                    live.remove(victim);
                }
            }
            long huge = allocator.malloc(segment + 123);
            live.put(huge, allocator.usableSize(huge));
            MemorySegment fromArena = arena.allocate(300);
            live.put(fromArena.address(), allocator.usableSize(fromArena.address()));
            long[] fromThread = new long[1];
            onThread(() -> fromThread[0] = allocator.malloc(1234)); // a thread that ended: its block lives on
            live.put(fromThread[0], allocator.usableSize(fromThread[0]));
            Map<Long, Integer> classes = new HashMap<>();
            Map<Long, Integer> heaps = new HashMap<>();
            Map<Long, Long> seen = new HashMap<>();
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
                assertTrue(seen.put(address, usable) == null, "visited twice");
                classes.put(address, sizeClass);
                heaps.put(address, heapId);
                return true;
            });
            assertEquals(live, seen, "the walk sees exactly the live blocks, with their usable sizes");
            assertEquals(-1, classes.get(huge), "huge blocks have size class -1");
            assertNotEquals(-1, classes.get(fromArena.address()));
            assertNotEquals(0, heaps.get(fromArena.address()), "an arena's heap owns its blocks");
            assertNotEquals(heaps.get(huge), heaps.get(fromArena.address()), "the arena has a heap of its own");
            AtomicInteger calls = new AtomicInteger();
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> calls.incrementAndGet() < 0);
            assertEquals(1, calls.get(), "false stops the walk");
            live.remove(fromArena.address());
            live.keySet().forEach(allocator::free);
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------ collect

    @Test
    void collectForceGivesFreedMemoryBackSoResidentMemoryDrops() {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ofHours(1))
                .build())) {
            allocator.collect(true);
            long committedAtStart = allocator.stats().committedBytes();
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 64 * 1024; i++) {
                long p = allocator.malloc(1000);
                at(p, 1000).fill((byte) 1);
                blocks.add(p);
            }
            long rssFull = rssBytes();
            long committedFull = allocator.stats().committedBytes();
            assertTrue(committedFull >= committedAtStart + 60 * MiB, "committed " + committedFull);
            blocks.forEach(allocator::free);
            allocator.collect(true);
            long committedAfter = allocator.stats().committedBytes();
            long rssAfter = rssBytes();
            assertTrue(committedAfter <= committedAtStart + 2 * MiB, "committed back near the start: "
                    + committedAtStart + " -> " + committedFull + " -> " + committedAfter);
            if (rssFull > 0) {
                assertTrue(rssFull - rssAfter >= 40 * MiB, "RSS visibly drops: " + rssFull + " -> " + rssAfter);
            }
            allocator.validate();
        }
    }

    @Test
    void aZeroPurgeDelayGivesEmptyPagesBackAtOnceWithoutCollect() {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ZERO).build())) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 40 * 1024; i++) {
                long p = allocator.malloc(1000);
                at(p, 1000).fill((byte) 1);
                blocks.add(p);
            }
            long keep = allocator.malloc(1000); // the segment stays: its empty pages are purged, not unmapped
            long rssFull = rssBytes();
            long purgedBefore = allocator.stats().purgedBytes();
            blocks.forEach(allocator::free);
            long rssAfter = rssBytes();
            assertTrue(allocator.stats().purgedBytes() - purgedBefore >= 24 * MiB, "purged "
                    + (allocator.stats().purgedBytes() - purgedBefore));
            if (rssFull > 0) {
                assertTrue(rssFull - rssAfter >= 24 * MiB, "RSS " + rssFull + " -> " + rssAfter);
            }
            allocator.free(keep);
            allocator.validate();
        }
    }

    @Test
    void collectForceAlsoReturnsWhatOtherThreadsFreedIntoThisThreadsPages() throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ofHours(1))
                .build())) {
            allocator.collect(true);
            long committedAtStart = allocator.stats().committedBytes();
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 32 * 1024; i++) {
                long p = allocator.malloc(1000);
                at(p, 1000).fill((byte) 1);
                blocks.add(p);
            }
            onThread(() -> blocks.forEach(allocator::free)); // every page is full, then emptied remotely
            allocator.collect(true);
            long committedAfter = allocator.stats().committedBytes();
            assertTrue(committedAfter <= committedAtStart + 2 * MiB, "committed " + committedAtStart + " -> "
                    + committedAfter);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    // ------------------------------------------------------------------ AllocatorConfig

    @Test
    void aCommitLimitIsAnOutOfMemoryErrorNamingTheLimitAndTheAllocatorRecovers() {
        long limit = 40 * MiB;
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().commitLimit(limit)
                .purgeDelay(Duration.ofHours(1)).build())) {
            List<Long> blocks = new ArrayList<>();
            OutOfMemoryError error = null;
            try {
                for (int i = 0; i < 10_000; i++) {
                    blocks.add(allocator.malloc(100 * KiB));
                }
            } catch (OutOfMemoryError e) {
                error = e;
            }
            assertTrue(error != null, "no OutOfMemoryError past the limit of " + limit);
            String message = error.getMessage();
            assertTrue(message.contains(Long.toString(limit)) || message.contains("40 MiB"),
                    "names the limit: " + message);
            assertTrue(allocator.stats().committedBytes() <= limit, "committed " + allocator.stats().committedBytes());
            OutOfMemoryError huge = assertThrows(OutOfMemoryError.class, () -> allocator.malloc(2 * limit));
            assertTrue(huge.getMessage().contains(Long.toString(2 * limit)), "names the size: " + huge.getMessage());
            allocator.validate();
            blocks.forEach(allocator::free);
            try { // memory again once freed, with no wait for the purge delay (mimalloc collects and retries)
                allocator.free(allocator.malloc(limit / 2));
                allocator.free(allocator.malloc(100 * KiB));
            } catch (OutOfMemoryError e) { // as an assertion: JUnit would abort the whole run on the error itself
                throw new AssertionError("all blocks were freed, yet: " + e, e);
            }
            allocator.validate();
        }
    }

    @Test
    void aFreeFillPatternIsWrittenOverFreedMemoryAfterTheLink() {
        int fill = 0xCD;
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().freeFill(fill)
                .purgeDelay(Duration.ofHours(1)).build())) {
            for (long size : new long[] {16, 100, 1000, 20_000, 200_000}) {
                long keep = allocator.malloc(size); // keeps the page in use
                long p = allocator.malloc(size);
                long usable = allocator.usableSize(p);
                at(p, usable).fill((byte) 0x11);
                allocator.free(p);
                // reading freed memory on purpose: the pattern is what a debugging user looks for
                assertAllBytes(p + 8, usable - 8, (byte) fill, "freed block of " + size);
                long remote = allocator.malloc(size); // freed by another thread: filled all the same
                at(remote, usable).fill((byte) 0x22);
                onThread(() -> allocator.free(remote));
                assertAllBytes(remote + 8, usable - 8, (byte) fill, "block of " + size + " freed by another thread");
                allocator.free(keep);
            }
            allocator.validate();
        }
    }

    @Test
    void aConfigIsOneRecordWithABuilderThatRefusesBadValues() {
        AllocatorConfig config = AllocatorConfig.builder().segmentSize(64 * MiB).checked(false)
                .purgeDelay(Duration.ofMillis(250)).commitLimit(GiB()).freeFill(0xAB).build();
        assertEquals(64 * MiB, config.segmentSize());
        assertFalse(config.checked());
        assertEquals(Duration.ofMillis(250), config.purgeDelay());
        assertEquals(GiB(), config.commitLimit());
        assertEquals(0xAB, config.freeFill());
        assertEquals(config, config.toBuilder().build());
        for (long bad : new long[] {0, 3 * MiB, 5 * MiB, 512 * MiB, -32 * MiB}) {
            assertThrows(IllegalArgumentException.class, () -> AllocatorConfig.builder().segmentSize(bad).build(),
                    "segment size " + bad);
        }
        assertThrows(IllegalArgumentException.class, () -> AllocatorConfig.builder().purgeDelay(Duration.ofMillis(-1))
                .build());
        assertThrows(IllegalArgumentException.class, () -> AllocatorConfig.builder().commitLimit(-1).build());
        assertThrows(IllegalArgumentException.class, () -> AllocatorConfig.builder().freeFill(256).build());
        assertThrows(IllegalArgumentException.class, () -> AllocatorConfig.builder().freeFill(-2).build());
        assertThrows(NullPointerException.class, () -> AllocatorConfig.builder().purgeDelay(null).build());
    }

    private static long GiB() {
        return 1024 * MiB;
    }

    @Test
    void systemPropertiesAreReadInOnePlace() {
        String[] names = {"cairn.checked", "cairn.segmentSize", "cairn.purgeDelayMillis", "cairn.commitLimit"};
        Map<String, String> saved = new HashMap<>();
        for (String name : names) {
            saved.put(name, System.getProperty(name));
        }
        try {
            System.setProperty("cairn.checked", "false");
            System.setProperty("cairn.segmentSize", Long.toString(16 * MiB));
            System.setProperty("cairn.purgeDelayMillis", "3");
            System.setProperty("cairn.commitLimit", Long.toString(GiB()));
            AllocatorConfig config = AllocatorConfig.fromSystemProperties();
            assertFalse(config.checked());
            assertEquals(16 * MiB, config.segmentSize());
            assertEquals(Duration.ofMillis(3), config.purgeDelay());
            assertEquals(GiB(), config.commitLimit());
            try (Allocator allocator = Allocator.create()) {
                assertEquals(config, allocator.config());
            }
            System.setProperty("cairn.checked", "yes");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    AllocatorConfig::fromSystemProperties);
            assertTrue(e.getMessage().contains("cairn.checked"), e.getMessage());
        } finally {
            for (String name : names) {
                if (saved.get(name) == null) {
                    System.clearProperty(name);
                } else {
                    System.setProperty(name, saved.get(name));
                }
            }
        }
    }

    // ------------------------------------------------------------------ close

    @Test
    void closeReturnsEverySegmentAndEveryLaterCallIsIllegalState() {
        Allocator allocator = Allocator.create();
        Heap heap = allocator.heap();
        long p = allocator.malloc(100);
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 64 * 1024; i++) {
            long q = allocator.malloc(1000);
            at(q, 1000).fill((byte) 3);
            blocks.add(q);
        }
        Arena arena = allocator.newArena();
        MemorySegment s = arena.allocate(100);
        long rssOpen = rssBytes();
        allocator.close();
        long rssClosed = rssBytes();
        if (rssOpen > 0) {
            assertTrue(rssOpen - rssClosed >= 40 * MiB, "close returns memory to the OS: " + rssOpen + " -> "
                    + rssClosed);
        }
        assertFalse(arena.scope().isAlive(), "this thread's open arena closed with the allocator");
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
        List<Executable> calls = List.of(() -> allocator.malloc(8), () -> allocator.calloc(1, 8),
                () -> allocator.realloc(p, 16), () -> allocator.realloc(0, 16), () -> allocator.mallocAligned(8, 64),
                () -> allocator.free(p), () -> allocator.usableSize(p), () -> allocator.allocate(8, 8),
                () -> allocator.allocateFrom("x"), allocator::heap, allocator::newArena, allocator::stats,
                () -> allocator.visitBlocks((a, u, c, h) -> true), allocator::validate,
                () -> allocator.collect(true), allocator::releaseCurrentThread, () -> heap.malloc(8),
                () -> heap.free(p), () -> heap.calloc(1, 1), () -> heap.mallocAligned(8, 16),
                () -> heap.realloc(p, 1), () -> heap.usableSize(p), () -> allocator.owns(p),
                () -> allocator.isLive(p), () -> arena.allocate(8), heap::release);
        for (int i = 0; i < calls.size(); i++) {
            assertThrows(IllegalStateException.class, calls.get(i), "call " + i + " after close");
        }
        allocator.close(); // idempotent, as AutoCloseable.close should be
        allocator.free(0);
        assertEquals(AllocatorConfig.defaults().segmentSize(), allocator.config().segmentSize());
    }

    @Test
    void closeIsRefusedWhileAnotherLiveThreadHasAnArenaOpen() throws Exception {
        Allocator allocator = Allocator.create();
        java.util.concurrent.CountDownLatch opened = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch mayClose = new java.util.concurrent.CountDownLatch(1);
        Thread owner = Thread.ofPlatform().start(() -> {
            try (Arena arena = allocator.newArena()) {
                arena.allocate(64).fill((byte) 1);
                opened.countDown();
                mayClose.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        opened.await();
        try {
            assertThrows(IllegalStateException.class, allocator::close);
            long p = allocator.malloc(10); // left open
            allocator.free(p);
        } finally {
            mayClose.countDown();
            owner.join();
        }
        allocator.validate();
        allocator.close();
    }

    // ------------------------------------------------------------------ many threads, content-verified

    @Test
    void threadsFreeingEachOthersBlocksKeepEveryContent() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            int threads = 4;
            int perThread = 10_000;
            java.util.concurrent.ConcurrentLinkedQueue<long[]> exchange =
                    new java.util.concurrent.ConcurrentLinkedQueue<>();
            List<Thread> running = new ArrayList<>();
            java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                    new java.util.concurrent.atomic.AtomicReference<>();
            for (int t = 0; t < threads; t++) {
                long threadSeed = SEED + t;
                running.add(Thread.ofPlatform().start(() -> {
                    try {
                        Random random = new Random(threadSeed);
                        for (int i = 0; i < perThread; i++) {
                            long size = 1 + random.nextInt(i % 100 == 0 ? 100_000 : 300);
                            long p = allocator.malloc(size);
                            stamp(p, size, p);
                            exchange.add(new long[] {p, size});
                            long[] other = exchange.poll();
                            if (other != null && random.nextBoolean()) {
                                verify(other[0], other[1], other[0]);
                                allocator.free(other[0]);
                            } else if (other != null) {
                                exchange.add(other);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread thread : running) {
                thread.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            Set<Long> expected = new HashSet<>();
            for (long[] block : exchange) {
                verify(block[0], block[1], block[0]);
                expected.add(block[0]);
            }
            assertEquals(expected, walk(allocator).keySet());
            exchange.forEach(block -> allocator.free(block[0]));
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }
}
