package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The public API probed the way mimalloc's test-api.c and test-api-fill.c probe mimalloc's: zero sizes, sizes at
 * every threshold, calloc, realloc, aligned allocation, usable sizes, heap walks, stats, arenas, bad addresses.
 */
class MimallocApiTest {

    /** The configuration every probe runs with; subclasses run them all again with another one. */
    AllocatorConfig config() {
        return AllocatorConfig.defaults();
    }

    Allocator create() {
        return Allocator.create(config());
    }

    /** For the probes of misuse: unchecked mode does not refuse it (it may crash the JVM, as documented). */
    void assumeChecked() {
        org.junit.jupiter.api.Assumptions.assumeTrue(config().checked(), "misuse is refused in checked mode only");
    }

    /**
     * Whether {@code p} is known not to be live: in checked mode, {@link Allocator#isLive}; an unchecked allocator
     * keeps no bitmaps, its {@code isLive} answers {@code owns} (documented), so nothing is known.
     */
    static boolean notLive(Allocator allocator, long p) {
        return !allocator.config().checked() || !allocator.isLive(p);
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** Writes a pattern derived from the block's address and the word index over {@code size} bytes. */
    static void fill(long address, long size) {
        fillRange(address, 0, size);
    }

    static void check(long address, long size) {
        checkRange(address, 0, size);
    }

    /** The pattern of the block at {@code address} over {@code [from, to)}; {@code from} a multiple of 8. */
    static void fillRange(long address, long from, long to) {
        MemorySegment block = Blocks.view(address, to);
        long words = to >>> 3;
        for (long i = from >>> 3; i < words; i++) {
            block.set(ValueLayout.JAVA_LONG_UNALIGNED, i << 3, pattern(address, i));
        }
        for (long i = Math.max(from, words << 3); i < to; i++) {
            block.set(ValueLayout.JAVA_BYTE, i, (byte) pattern(address, i));
        }
    }

    static void checkRange(long address, long from, long to) {
        MemorySegment block = Blocks.view(address, to);
        long words = to >>> 3;
        for (long i = from >>> 3; i < words; i++) {
            long actual = block.get(ValueLayout.JAVA_LONG_UNALIGNED, i << 3);
            if (actual != pattern(address, i)) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + " (" + to + " bytes): word " + i
                        + " is 0x" + Long.toHexString(actual) + " (overwritten)");
            }
        }
        for (long i = Math.max(from, words << 3); i < to; i++) {
            if (block.get(ValueLayout.JAVA_BYTE, i) != (byte) pattern(address, i)) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + ": byte " + i + " overwritten");
            }
        }
    }

    static long pattern(long address, long i) {
        long x = (address + i) * 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 31);
    }

    static void assertZero(long address, long size) {
        MemorySegment block = Blocks.view(address, size);
        for (long i = 0; i < size; i++) {
            if (block.get(ValueLayout.JAVA_BYTE, i) != 0) {
                throw new AssertionError("byte " + i + " of 0x" + Long.toHexString(address) + " is not zero");
            }
        }
    }

    static void assertIntact(Allocator allocator, AllocatorStats before) {
        allocator.validate();
        AllocatorStats after = allocator.stats();
        assertEquals(before.blocksInUse(), after.blocksInUse(), "blocks in use changed");
        assertEquals(before.allocatedBytes(), after.allocatedBytes(), "allocated bytes changed");
        long p = allocator.malloc(40);
        fill(p, 40);
        check(p, 40);
        allocator.free(p);
    }

    /** Calls {@code call}, expecting an IllegalArgumentException naming the address; the heap is left as it was. */
    static void refused(Allocator allocator, long address, Runnable call) {
        AllocatorStats before = allocator.stats();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run,
                "0x" + Long.toHexString(address));
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(address)), e.getMessage());
        assertIntact(allocator, before);
    }


    static Map<Long, Long> walk(Allocator allocator) {
        Map<Long, Long> seen = new HashMap<>();
        allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
            assertEquals(null, seen.put(address, usable), "block visited twice");
            return true;
        });
        return seen;
    }

    // ------------------------------------------------------------------------------------------ malloc

    @Test
    void mallocZeroGivesUniqueFreeableBlocks() {
        try (Allocator allocator = create()) {
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < 2000; i++) {
                long p = allocator.malloc(0);
                assertNotEquals(0, p);
                assertEquals(0, p % 16);
                assertTrue(seen.add(p), "malloc(0) returned a live block twice");
                assertTrue(allocator.isLive(p));
                assertTrue(allocator.usableSize(p) >= 0);
            }
            long heapZero = allocator.heap().malloc(0);
            assertTrue(seen.add(heapZero));
            allocator.validate();
            assertEquals(seen.size(), allocator.stats().blocksInUse());
            seen.forEach(allocator::free);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void sizesTooLargeAreOutOfMemoryNamingTheSize() {
        try (Allocator allocator = create()) {
            long keep = allocator.malloc(100);
            for (long size : new long[] {Long.MAX_VALUE, 1L << 48, 1L << 47, (1L << 47) - 1, (1L << 46) + 1,
                    // just below the limit: rounded up to 16 bytes, they passed the check on the size asked for
                    // and failed the store's, whose error named the rounded size
                    (1L << 46) - 1, (1L << 46) - 15, Long.MAX_VALUE - 15}) {
                AllocatorStats before = allocator.stats();
                OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> allocator.malloc(size),
                        Long.toString(size));
                assertTrue(e.getMessage().contains(Long.toString(size)), size + ": " + e.getMessage());
                e = assertThrows(OutOfMemoryError.class, () -> allocator.calloc(1, size), Long.toString(size));
                assertTrue(e.getMessage().contains(Long.toString(size)), size + ": " + e.getMessage());
                e = assertThrows(OutOfMemoryError.class, () -> allocator.mallocAligned(size, 1 << 20));
                assertTrue(e.getMessage().contains(Long.toString(size)), size + ": " + e.getMessage());
                e = assertThrows(OutOfMemoryError.class, () -> allocator.realloc(keep, size));
                assertTrue(e.getMessage().contains(Long.toString(size)), size + ": " + e.getMessage());
                assertIntact(allocator, before);
            }
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> allocator.calloc(1L << 24, 1L << 24));
            assertTrue(e.getMessage().contains(Long.toString(1L << 48)), e.getMessage());
            assertTrue(allocator.isLive(keep));
            allocator.free(keep);
            allocator.validate();
        }
    }

    @Test
    void sizesAroundEveryThresholdAreUsableToTheEnd() {
        try (Allocator allocator = create()) {
            List<Long> sizes = new ArrayList<>();
            for (long t : new long[] {16, 128, 1024, 8 << 10, 64 << 10, 512 << 10, 4 << 20, 32 << 20, 64 << 20}) {
                for (long d = -17; d <= 17; d++) {
                    if (t + d >= 0 && (Math.abs(d) <= 1 || Math.abs(d) == 16 || Math.abs(d) == 17)) {
                        sizes.add(t + d);
                    }
                }
            }
            for (int round = 0; round < 2; round++) {
                Map<Long, Long> live = new LinkedHashMap<>();
                for (long size : sizes) {
                    long p = allocator.malloc(size);
                    long usable = allocator.usableSize(p);
                    assertTrue(usable >= size, size + " -> " + usable);
                    assertTrue(size < 1024 || usable <= size + size / 4 + 4096, size + " -> " + usable);
                    fill(p, usable);
                    live.put(p, usable);
                }
                assertEquals(live, walk(allocator));
                live.forEach(MimallocApiTest::check);
                allocator.validate();
                live.keySet().forEach(allocator::free);
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse());
            }
        }
    }

    @Test
    void usableSizeOfEverySizeTo4096DoesNotOverlapNeighbours() {
        for (boolean checked : new boolean[] {true, false}) {
            try (Allocator allocator = Allocator.create(config().toBuilder().checked(checked).build())) {
                Map<Long, Long> live = new LinkedHashMap<>();
                long previous = 0;
                for (int round = 0; round < 2; round++) {
                    for (long size = 1; size <= 4096; size++) {
                        long p = allocator.malloc(size);
                        long usable = allocator.usableSize(p);
                        assertTrue(usable >= size && usable < size + size / 4 + 16, size + " -> " + usable);
                        assertTrue(usable >= previous || size == 1 || round > 0, "usable size not monotonic");
                        fill(p, usable);
                        live.put(p, usable);
                    }
                }
                live.forEach(MimallocApiTest::check);
                if (checked) {
                    allocator.validate();
                }
                live.keySet().forEach(allocator::free);
                if (checked) {
                    allocator.validate();
                }
                assertEquals(0, allocator.stats().blocksInUse());
            }
        }
    }

    // ------------------------------------------------------------------------------------------ calloc

    @Test
    void callocZeroesEveryKindOfBlockEvenReused() {
        try (Allocator allocator = create()) {
            long z1 = allocator.calloc(0, 100);
            long z2 = allocator.calloc(100, 0);
            long z3 = allocator.calloc(0, Long.MAX_VALUE);
            long z4 = allocator.calloc(Long.MAX_VALUE, 0);
            for (long z : new long[] {z1, z2, z3, z4}) {
                assertNotEquals(0, z);
                assertTrue(allocator.isLive(z));
            }
            assertEquals(4, new HashSet<>(List.of(z1, z2, z3, z4)).size());
            for (long size : new long[] {8, 100, 1000, 5000, 50_000, 300_000, 600_000, 5 << 20, 40 << 20}) {
                for (int round = 0; round < 3; round++) {
                    long dirty = allocator.malloc(size);
                    Blocks.view(dirty, allocator.usableSize(dirty)).fill((byte) 0xA5);
                    allocator.free(dirty);
                    long p = allocator.calloc(1, size);
                    assertZero(p, size);
                    long q = allocator.calloc(size / 8 + 1, 8);
                    assertZero(q, (size / 8 + 1) * 8);
                    allocator.free(p);
                    allocator.free(q);
                }
            }
            for (long z : new long[] {z1, z2, z3, z4}) {
                allocator.free(z);
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void callocOverflowAndNegativesAreRefused() {
        try (Allocator allocator = create()) {
            AllocatorStats before = allocator.stats();
            for (long[] args : new long[][] {{Long.MAX_VALUE, 2}, {2, Long.MAX_VALUE}, {1L << 32, 1L << 32},
                    {-1, 1}, {1, -1}, {-1, -1}, {Long.MIN_VALUE, -1}, {-1, Long.MIN_VALUE}, {3, Long.MAX_VALUE / 2}}) {
                assertThrows(IllegalArgumentException.class, () -> allocator.calloc(args[0], args[1]),
                        args[0] + " * " + args[1]);
                assertThrows(IllegalArgumentException.class, () -> allocator.heap().calloc(args[0], args[1]));
            }
            assertIntact(allocator, before);
        }
    }

    // ------------------------------------------------------------------------------------------ realloc

    @Test
    void reallocNullAndZero() {
        try (Allocator allocator = create()) {
            long p = allocator.realloc(0, 100);
            assertNotEquals(0, p);
            assertTrue(allocator.usableSize(p) >= 100);
            long z = allocator.realloc(0, 0);
            assertNotEquals(0, z);
            assertTrue(allocator.isLive(z));
            fill(p, 100);
            long shrunk = allocator.realloc(p, 0); // documented: a minimal block, as mimalloc does
            assertNotEquals(0, shrunk);
            assertTrue(allocator.isLive(shrunk));
            assertTrue(shrunk == p || notLive(allocator, p));
            allocator.validate();
            assertEquals(2, allocator.stats().blocksInUse());
            long huge = allocator.malloc(10 << 20);
            long shrunkHuge = allocator.realloc(huge, 0);
            assertTrue(allocator.isLive(shrunkHuge));
            assertTrue(allocator.usableSize(shrunkHuge) < 1024, "realloc(p, 0) keeps a 10 MiB block");
            allocator.free(z);
            allocator.free(shrunk);
            allocator.free(shrunkHuge);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void reallocGrowsAndShrinksAcrossEveryClassKeepingContents() {
        try (Allocator allocator = create()) {
            long seed = 0x1234;
            long p = allocator.malloc(1);
            Blocks.fill(p, 1, seed);
            long size = 1;
            List<Long> steps = new ArrayList<>();
            for (long s = 2; s <= (48L << 20); s = s * 3 / 2 + 1) {
                steps.add(s);
            }
            for (long next : steps) {
                long q = allocator.realloc(p, next);
                Blocks.check(q, size, seed); // contents kept up to the old size
                Blocks.fill(q, next, seed);
                assertTrue(allocator.usableSize(q) >= next);
                assertTrue(q == p || notLive(allocator, p), "realloc moved the block and left the old one live");
                p = q;
                size = next;
            }
            for (int i = steps.size() - 2; i >= 0; i--) {
                long next = steps.get(i);
                long q = allocator.realloc(p, next);
                Blocks.check(q, next, seed);
                assertTrue(allocator.usableSize(q) >= next);
                p = q;
            }
            allocator.validate();
            assertEquals(1, allocator.stats().blocksInUse());
            assertEquals(Map.of(p, allocator.usableSize(p)), walk(allocator));
            allocator.free(p);
            allocator.validate();
        }
    }

    @Test
    void reallocOfAnotherThreadsBlockAndOfBadAddresses() throws Exception {
        try (Allocator allocator = create()) {
            long[] theirs = new long[1];
            OtherThread.run(() -> {
                theirs[0] = allocator.malloc(300);
                Blocks.fill(theirs[0], 300, 77);
            });
            long moved = allocator.realloc(theirs[0], 5000);
            Blocks.check(moved, 300, 77);
            assertTrue(notLive(allocator, theirs[0]));
            allocator.validate();
            long q = allocator.malloc(64);
            long[] bads = allocator.config().checked() ? new long[] {q + 16, q + 8, q - 16, theirs[0], 1, -1,
                Long.MIN_VALUE, 16} : new long[0];
            for (long bad : bads) {
                refused(allocator, bad, () -> allocator.realloc(bad, 100));
                refused(allocator, bad, () -> allocator.realloc(bad, 0));
                refused(allocator, bad, () -> allocator.usableSize(bad));
            }
            allocator.free(q);
            allocator.free(moved);
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    // ------------------------------------------------------------------------------------------ aligned

    /** mimalloc's malloc-aligned9 asks up to 2^27; past the segment size a block gets a segment of its own. */
    @Test
    void mallocAlignedForEveryPowerOfTwoUpToFourSegmentSizes() {
        try (Allocator allocator = create()) {
            long largest = Math.max(4 * config().segmentSize(), 1L << 27);
            for (long alignment = 1; alignment <= largest; alignment <<= 1) {
                Map<Long, Long> live = new LinkedHashMap<>();
                for (long size : new long[] {0, 1, 7, 16, 100, alignment - 1, alignment, alignment + 1,
                        alignment * 3 / 2 + 1, 3 * alignment}) {
                    if (size < 0 || size > (64L << 20)) {
                        continue;
                    }
                    for (int i = 0; i < (alignment <= 4096 ? 3 : 1); i++) {
                        long p = allocator.mallocAligned(size, alignment);
                        assertEquals(0, p % alignment, "mallocAligned(" + size + ", " + alignment + ") = 0x"
                                + Long.toHexString(p));
                        long usable = allocator.usableSize(p);
                        assertTrue(usable >= size, "usable " + usable + " < " + size);
                        fill(p, Math.min(usable, 1 << 20));
                        if (usable > (1 << 20)) {
                            fillRange(p, usable - 4096, usable);
                        }
                        live.put(p, usable);
                    }
                }
                live.forEach((p, usable) -> {
                    check(p, Math.min(usable, 1 << 20));
                    if (usable > (1 << 20)) {
                        checkRange(p, usable - 4096, usable);
                    }
                });
                assertEquals(live, walk(allocator), "alignment " + alignment);
                allocator.validate();
                live.keySet().forEach(allocator::free);
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse());
            }
            // the gap before a block aligned past the segment size is reserved, not committed
            long committed = allocator.stats().committedBytes();
            long p = allocator.mallocAligned(16, 4 * config().segmentSize());
            assertEquals(0, p % (4 * config().segmentSize()));
            assertTrue(allocator.stats().committedBytes() - committed < config().segmentSize(),
                    "committed " + (allocator.stats().committedBytes() - committed) + " bytes for 16");
            allocator.free(p);
            AllocatorStats before = allocator.stats();
            OutOfMemoryError tooLarge = assertThrows(OutOfMemoryError.class,
                    () -> allocator.mallocAligned(16, 1L << 62));
            assertTrue(tooLarge.getMessage().contains("address space"), tooLarge.getMessage());
            assertThrows(IllegalArgumentException.class, () -> allocator.mallocAligned(16, Long.MIN_VALUE));
            assertThrows(IllegalArgumentException.class, () -> allocator.mallocAligned(16, 48));
            assertThrows(IllegalArgumentException.class, () -> allocator.mallocAligned(-1, 64));
            assertThrows(IllegalArgumentException.class, () -> allocator.mallocAligned(-1, 1 << 20));
            assertIntact(allocator, before);
        }
    }

    @Test
    void alignedBlocksInterleavedWithOthersAndReused() {
        try (Allocator allocator = create()) {
            long seed = 42;
            System.out.println("alignedBlocksInterleavedWithOthersAndReused seed=" + seed);
            Random random = new Random(seed);
            Map<Long, Long> live = new LinkedHashMap<>();
            for (int i = 0; i < 20_000; i++) {
                long alignment = 1L << random.nextInt(17);
                long size = random.nextInt(3) == 0 ? random.nextInt(70_000) : random.nextInt(600);
                long p = allocator.mallocAligned(size, alignment);
                assertEquals(0, p % alignment);
                long usable = allocator.usableSize(p);
                assertTrue(usable >= size);
                fill(p, usable);
                live.put(p, usable);
                if (random.nextInt(3) == 0) {
                    long victim = live.keySet().iterator().next();
                    check(victim, live.remove(victim));
                    allocator.free(victim);
                }
            }
            live.forEach(MimallocApiTest::check);
            assertEquals(live, walk(allocator));
            allocator.validate();
            live.keySet().forEach(allocator::free);
            allocator.validate();
        }
    }

    // ------------------------------------------------------------------------------------------ walk and stats

    @Test
    void walkAndStatsAgreeWithWhatWasDone() {
        try (Allocator allocator = create()) {
            long seed = 7;
            System.out.println("walkAndStatsAgreeWithWhatWasDone seed=" + seed);
            Random random = new Random(seed);
            Map<Long, Long> live = new HashMap<>();
            List<Long> toFreeRemotely = new ArrayList<>();
            for (int i = 0; i < 5000; i++) {
                long size = i % 500 == 0 ? 1 << 20 : i % 50 == 0 ? 100_000 : random.nextInt(2000);
                long p = allocator.malloc(size);
                live.put(p, allocator.usableSize(p));
                if (i % 3 == 0) {
                    toFreeRemotely.add(p);
                }
            }
            assertEquals(live, walk(allocator));
            AllocatorStats stats = allocator.stats();
            assertEquals(live.size(), stats.blocksInUse());
            assertEquals(live.values().stream().mapToLong(Long::longValue).sum(), stats.allocatedBytes());
            Map<Long, Long> perBin = new HashMap<>();
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
                perBin.merge((long) sizeClass, 1L, Long::sum);
                return true;
            });
            for (AllocatorStats.BinStats bin : stats.bins()) {
                assertEquals(perBin.getOrDefault((long) bin.bin(), 0L), bin.blocksInUse(), "bin " + bin.bin());
            }
            long remoteBefore = stats.remoteFrees();
            OtherThread.run(() -> toFreeRemotely.forEach(allocator::free));
            toFreeRemotely.forEach(live::remove);
            assertEquals(live, walk(allocator), "a walk after remote frees");
            allocator.collect(true);
            assertEquals(live, walk(allocator));
            stats = allocator.stats();
            assertEquals(live.size(), stats.blocksInUse());
            assertEquals(live.values().stream().mapToLong(Long::longValue).sum(), stats.allocatedBytes());
            // every one of them counts, the huge blocks (which no list collects) too: they used to be left out
            assertEquals(toFreeRemotely.size(), stats.remoteFrees() - remoteBefore, stats.toJson());
            assertValidJson(stats.toJson());
            allocator.validate();
            live.keySet().forEach(allocator::free);
            allocator.collect(true);
            assertValidJson(allocator.stats().toJson());
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(Map.of(), walk(allocator));
        }
    }

    @Test
    void walkCanStopEarlyAndSeesArenaBlocks() {
        try (Allocator allocator = create(); Arena arena = allocator.newArena()) {
            Map<Long, Long> live = new HashMap<>();
            for (int i = 0; i < 100; i++) {
                MemorySegment s = arena.allocate(i * 10 + 1);
                live.put(s.address(), allocator.usableSize(s.address()));
            }
            MemorySegment big = arena.allocate(2 << 20);
            live.put(big.address(), allocator.usableSize(big.address()));
            assertEquals(live, walk(allocator));
            int[] visits = {0};
            allocator.visitBlocks((a, u, c, h) -> ++visits[0] < 5);
            assertEquals(5, visits[0]);
            List<Long> remote = live.keySet().stream().filter(p -> p % 3 == 0 || p == big.address()).toList();
            OtherThread.run(() -> remote.forEach(allocator::free));
            remote.forEach(live::remove);
            assertEquals(live, walk(allocator), "arena blocks freed by another thread");
            for (int i = 0; i < 300; i++) { // the arena's heap takes the remote frees back
                MemorySegment s = arena.allocate(i * 10 + 1);
                live.put(s.address(), allocator.usableSize(s.address()));
            }
            assertEquals(live, walk(allocator));
            allocator.validate();
        }
    }

    /** A small JSON checker: the whole text is one value, no NaN or Infinity, no trailing commas. */
    static void assertValidJson(String json) {
        int end = new JsonCheck(json).value(0);
        assertEquals(json.length(), end, "trailing text in " + json);
    }

    private record JsonCheck(String s) {
        int ws(int i) {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            return i;
        }

        int value(int i) {
            i = ws(i);
            if (i >= s.length()) {
                throw new AssertionError("JSON ends early: " + s);
            }
            char c = s.charAt(i);
            if (c == '{') {
                i = ws(i + 1);
                if (s.charAt(i) == '}') {
                    return i + 1;
                }
                while (true) {
                    i = string(ws(i));
                    i = ws(i);
                    expect(i, ':');
                    i = ws(value(i + 1));
                    if (s.charAt(i) == '}') {
                        return i + 1;
                    }
                    expect(i, ',');
                    i++;
                }
            }
            if (c == '[') {
                i = ws(i + 1);
                if (s.charAt(i) == ']') {
                    return i + 1;
                }
                while (true) {
                    i = ws(value(i));
                    if (s.charAt(i) == ']') {
                        return i + 1;
                    }
                    expect(i, ',');
                    i++;
                }
            }
            if (c == '"') {
                return string(i);
            }
            for (String word : new String[] {"true", "false", "null"}) {
                if (s.startsWith(word, i)) {
                    return i + word.length();
                }
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")
                    .matcher(s).region(i, s.length());
            if (!m.lookingAt()) {
                throw new AssertionError("bad JSON value at " + i + ": " + s.substring(i, Math.min(s.length(), i + 20)));
            }
            return m.end();
        }

        int string(int i) {
            expect(i, '"');
            for (i++; s.charAt(i) != '"'; i++) {
                if (s.charAt(i) == '\\') {
                    i++;
                } else if (s.charAt(i) < 0x20) {
                    throw new AssertionError("control character in a JSON string");
                }
            }
            return i + 1;
        }

        void expect(int i, char c) {
            if (s.charAt(i) != c) {
                throw new AssertionError("expected '" + c + "' at " + i + " of " + s);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ arenas

    @Test
    void arenaLifecycle() throws Exception {
        try (Allocator allocator = create()) {
            Arena arena = allocator.newArena();
            List<MemorySegment> segments = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                MemorySegment s = arena.allocate(i % 7 == 0 ? 70_000 : i % 100 + 1, 1L << (i % 8));
                assertEquals(0, s.address() % (1L << (i % 8)));
                s.fill((byte) i);
                segments.add(s);
            }
            MemorySegment big = arena.allocate(3 << 20, 1 << 20);
            assertEquals(0, big.address() % (1 << 20));
            MemorySegment text = arena.allocateFrom("hello, arena");
            assertEquals("hello, arena", text.getString(0));
            MemorySegment slice = big.asSlice(1000, 100);
            slice.fill((byte) 9);
            assertEquals(9, big.get(ValueLayout.JAVA_BYTE, 1050));
            for (int i = 0; i < segments.size(); i++) {
                assertEquals((byte) i, segments.get(i).get(ValueLayout.JAVA_BYTE, segments.get(i).byteSize() - 1));
            }
            allocator.free(segments.get(1)); // an arena block may be freed one by one
            if (allocator.config().checked()) {
                assertThrows(IllegalArgumentException.class, () -> allocator.free(segments.get(1).address()));
            }
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    other.set(assertThrows(WrongThreadException.class, () -> arena.allocate(16)));
                    other.set(assertThrows(WrongThreadException.class, () -> segments.get(0).get(ValueLayout.JAVA_BYTE, 0)));
                    other.set(assertThrows(WrongThreadException.class, arena::close));
                } catch (Throwable e) {
                    other.set(e);
                }
            });
            t.start();
            t.join();
            assertTrue(other.get() instanceof WrongThreadException, String.valueOf(other.get()));
            allocator.validate();
            arena.close();
            assertThrows(IllegalStateException.class, () -> segments.get(0).get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> slice.get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> arena.allocate(16));
            assertThrows(IllegalStateException.class, arena::close);
            assertThrows(IllegalArgumentException.class, () -> allocator.free(segments.get(2)));
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(Map.of(), walk(allocator));
        }
    }

    @Test
    void anArenaUsedFromAnotherThreadIsRefusedBeforeItsHeapIsTouched() throws Exception {
        for (boolean checked : new boolean[] {true, false}) {
            try (Allocator allocator = Allocator.create(config().toBuilder().checked(checked).build())) {
                Arena arena = allocator.newArena();
                MemorySegment mine = arena.allocate(16);
                AllocatorStats before = allocator.stats();
                List<Throwable> thrown = new ArrayList<>();
                Thread t = new Thread(() -> {
                    for (long size : new long[] {16, 16, 5000, 200_000, 2 << 20}) {
                        try {
                            arena.allocate(size);
                            thrown.add(null);
                        } catch (Throwable e) {
                            thrown.add(e);
                        }
                    }
                });
                t.start();
                t.join();
                for (Throwable e : thrown) {
                    assertTrue(e instanceof WrongThreadException, checked + ": " + e);
                }
                // unchecked, the block used to be taken from the arena's heap (racing its owner) and then lost
                // when the segment's confined scope refused the other thread
                assertEquals(before.blocksInUse(), allocator.stats().blocksInUse(), "checked=" + checked);
                assertEquals(before.allocatedBytes(), allocator.stats().allocatedBytes(), "checked=" + checked);
                allocator.free(mine);
                assertEquals(0, allocator.stats().blocksInUse());
                arena.close();
            }
        }
    }

    @Test
    void closingTheAllocatorClosesThisThreadsArena() {
        Allocator allocator = create();
        Arena arena = allocator.newArena();
        MemorySegment s = arena.allocate(100);
        allocator.close();
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> arena.allocate(10));
        assertThrows(IllegalStateException.class, arena::close);
        assertThrows(IllegalStateException.class, () -> allocator.free(s));
    }

    @Test
    void aSegmentOfAnArenaWhoseThreadEndedIsRefusedOnceItsMemoryIsReused() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            try (Allocator allocator = create()) {
                MemorySegment[] kept = new MemorySegment[1];
                Runnable body = () -> kept[0] = allocator.newArena().allocate(100); // never closed
                Thread thread = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
                thread.join();
                allocator.collect(false); // reaps the ended thread's arena: its segment goes back, to be reused
                assertTrue(kept[0].scope().isAlive(), "confined to a dead thread: nobody can close it");
                Set<Long> mine = new HashSet<>();
                for (int i = 0; i < 1000; i++) {
                    mine.add(allocator.malloc(100));
                }
                assertTrue(mine.contains(kept[0].address()), "the arena's memory is reused");
                AllocatorStats before = allocator.stats();
                // it used to be accepted, freeing this thread's live block at the same address
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> allocator.free(kept[0]));
                assertTrue(e.getMessage().contains("0x" + Long.toHexString(kept[0].address())), e.getMessage());
                assertTrue(allocator.isLive(kept[0].address()), "virtual=" + virtual);
                assertIntact(allocator, before);
                mine.forEach(allocator::free);
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse());
            }
        }
    }

    @Test
    void blocksOfAnArenaClosedDuringAnotherThreadsWalkAreNotLive() throws Exception {
        try (Allocator allocator = create()) {
            Arena arena = allocator.newArena();
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                blocks.add(arena.allocate(i % 20 * 100 + 16).address());
            }
            blocks.add(arena.allocate(2 << 20).address());
            long mine = allocator.malloc(64);
            java.util.concurrent.CountDownLatch walking = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            AtomicReference<Throwable> walkFailure = new AtomicReference<>();
            Thread walker = new Thread(() -> { // a monitor's stats() or visitBlocks, caught in the middle
                try {
                    allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
                        walking.countDown();
                        try {
                            done.await();
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                        return false;
                    });
                } catch (Throwable e) {
                    walkFailure.set(e);
                }
            });
            walker.start();
            walking.await();
            arena.close(); // its segments go back; the walk holds their unmapping back
            try {
                AllocatorStats before = allocator.stats();
                for (long block : allocator.config().checked() ? blocks : List.<Long>of()) {
                    // they proved live until the walk ended, and a free of one on this thread (the arena's) threw
                    // a NullPointerException from the free slow path, the arena's heap being gone
                    assertFalse(allocator.isLive(block), Long.toHexString(block));
                    refused(allocator, block, () -> allocator.free(block));
                    refused(allocator, block, () -> allocator.usableSize(block));
                    refused(allocator, block, () -> allocator.realloc(block, 10));
                }
                if (allocator.config().checked()) {
                    OtherThread.run(() -> refused(allocator, blocks.get(0), () -> allocator.free(blocks.get(0))));
                }
                assertEquals(before.blocksInUse(), allocator.stats().blocksInUse());
            } finally {
                done.countDown();
                walker.join();
            }
            assertEquals(null, walkFailure.get());
            allocator.validate();
            assertEquals(Map.of(mine, allocator.usableSize(mine)), walk(allocator));
            allocator.free(mine);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void aVisitorMayCloseAnArenaAndFreeWhatItVisitsNext() {
        try (Allocator allocator = create()) {
            Arena arena = allocator.newArena();
            Set<Long> arenaBlocks = new HashSet<>();
            Set<Long> mine = new HashSet<>();
            for (int i = 0; i < 2000; i++) {
                arenaBlocks.add(arena.allocate(i % 50 * 100 + 1).address());
                mine.add(allocator.malloc(i % 70 * 50 + 1));
            }
            int[] visits = {0};
            Set<Long> freed = new HashSet<>();
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
                if (++visits[0] == 10) {
                    arena.close();
                }
                if (visits[0] > 10) {
                    // not even the rest of the closed arena's segment: its blocks died with it
                    assertFalse(arenaBlocks.contains(address), "a block of the closed arena visited");
                }
                if (visits[0] >= 10) {
                    if (arenaBlocks.contains(address)) {
                        if (allocator.config().checked()) { // unchecked, a free of a dead block is undefined
                            assertThrows(IllegalArgumentException.class, () -> allocator.free(address));
                        }
                    } else {
                        allocator.free(address);
                        freed.add(address);
                    }
                }
                return true;
            });
            mine.removeAll(freed);
            allocator.validate();
            assertEquals(mine, walk(allocator).keySet());
            mine.forEach(allocator::free);
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    // ------------------------------------------------------------------------------------------ two allocators

    @Test
    void aBlockOfOneAllocatorIsRefusedByAnother() {
        assumeChecked();
        try (Allocator a = create(); Allocator b = create()) {
            List<Long> fromA = new ArrayList<>();
            for (long size : new long[] {0, 16, 1000, 10_000, 100_000, 1 << 20, 40 << 20}) {
                fromA.add(a.malloc(size));
            }
            MemorySegment segmentA = a.allocate(64);
            long bBlock = b.malloc(64);
            for (long p : fromA) {
                refused(b, p, () -> b.free(p));
                refused(b, p, () -> b.realloc(p, 5));
                refused(b, p, () -> b.usableSize(p));
                assertFalse(b.isLive(p));
                assertFalse(b.owns(p));
                assertTrue(a.isLive(p));
            }
            assertThrows(IllegalArgumentException.class, () -> b.free(segmentA));
            assertThrows(IllegalArgumentException.class, () -> b.freeDelayed(fromA.get(1)));
            a.validate();
            fromA.forEach(a::free);
            a.free(segmentA);
            b.free(bBlock);
            a.validate();
            b.validate();
            assertEquals(0, a.stats().blocksInUse());
            assertEquals(0, b.stats().blocksInUse());
        }
    }

    // ------------------------------------------------------------------------------------------ bad addresses

    @Test
    void badAddressesAreRefusedAndLeaveTheHeapIntact() throws Throwable {
        assumeChecked();
        MethodHandle cMalloc = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("malloc").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        MethodHandle cFree = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG));
        try (Allocator allocator = create(); Allocator other = create();
                Arena jdk = Arena.ofConfined()) {
            long small = allocator.malloc(48);
            long medium = allocator.malloc(20_000);
            long large = allocator.malloc(300_000);
            long huge = allocator.malloc(5 << 20);
            long alignedHuge = allocator.mallocAligned(100, Math.min(16 << 20, config().segmentSize()));
            long freed = allocator.malloc(48);
            allocator.free(freed);
            long freedHuge = allocator.malloc(6 << 20);
            allocator.free(freedHuge);
            long glibc = (long) cMalloc.invokeExact(64L);
            long glibcBig = (long) cMalloc.invokeExact(1L << 20);
            List<Long> bad = new ArrayList<>(List.of(0L, 1L, -1L, 8L, 16L, 4096L, Long.MIN_VALUE, Long.MAX_VALUE,
                    -16L, 1L << 47, (1L << 47) - 16, glibc, glibcBig, jdk.allocate(64).address(), other.malloc(64),
                    freed, freedHuge, small + 1, small + 8, small + 16, small + 48, small - 16, medium + 16,
                    medium + 20_480, large + 16, large - 16, huge + 16, huge - 16, huge + (5 << 20),
                    huge + (5 << 20) - 16, alignedHuge - 16, alignedHuge + 16, alignedHuge - (8 << 20)));
            for (long block : new long[] {small, medium, large, huge, alignedHuge}) {
                long segment = block & -config().segmentSize();
                for (long offset : new long[] {0, 8, 16, 64, 128, 256, 1024, 4096, 8192, 65536, 65536 + 128,
                        config().segmentSize() - 16, config().segmentSize() - 4096}) {
                    bad.add(segment + offset);
                }
            }
            long unmapped = jdk.allocate(16).address();
            try (Arena gone = Arena.ofConfined()) {
                unmapped = gone.allocate(1 << 20, 4096).address();
            }
            bad.add(unmapped);
            Set<Long> liveBlocks = Set.of(small, medium, large, huge, alignedHuge);
            for (long address : bad) {
                if (liveBlocks.contains(address) || address == 0) {
                    continue;
                }
                assertFalse(allocator.isLive(address), Long.toHexString(address));
                refused(allocator, address, () -> allocator.free(address));
                refused(allocator, address, () -> allocator.realloc(address, 64));
                refused(allocator, address, () -> allocator.usableSize(address));
                refused(allocator, address, () -> allocator.freeDelayed(address));
                refused(allocator, address, () -> allocator.heap().free(address));
                refused(allocator, address, () -> allocator.heap().realloc(address, 0));
            }
            allocator.free(0);
            long fresh = allocator.realloc(0, 0);
            assertTrue(allocator.isLive(fresh));
            allocator.free(fresh);
            for (long block : liveBlocks) {
                assertTrue(allocator.isLive(block));
                allocator.free(block);
            }
            cFree.invokeExact(glibc);
            cFree.invokeExact(glibcBig);
            allocator.collect(true);
            allocator.validate();
            other.validate();
        }
    }

    @Test
    void everyCallAfterCloseThrowsIllegalState() {
        Allocator allocator = create();
        long p = allocator.malloc(10);
        MemorySegment s = allocator.allocate(10);
        Heap heap = allocator.heap();
        allocator.close();
        List<Runnable> calls = List.of(() -> allocator.malloc(10), () -> allocator.malloc(0),
                () -> allocator.malloc(-1), () -> allocator.calloc(2, 8), () -> allocator.calloc(-1, 8),
                () -> allocator.realloc(p, 10), () -> allocator.realloc(0, 10), () -> allocator.mallocAligned(10, 64),
                () -> allocator.mallocAligned(10, 3), () -> allocator.free(p), () -> allocator.free(s),
                () -> allocator.usableSize(p), () -> allocator.owns(p), () -> allocator.isLive(p),
                () -> allocator.allocate(10), () -> allocator.allocateFrom("x"), allocator::heap,
                allocator::newArena, allocator::stats, () -> allocator.visitBlocks((a, u, c, h) -> true),
                allocator::validate, () -> allocator.collect(false), () -> allocator.collect(true),
                () -> allocator.freeDelayed(p), allocator::releaseCurrentThread, allocator::qsbrThread,
                () -> heap.malloc(10), () -> heap.free(p), () -> heap.calloc(1, 1), () -> heap.realloc(p, 1),
                () -> heap.mallocAligned(1, 64), () -> heap.usableSize(p), () -> allocator.free(p + 16),
                () -> allocator.free(12345));
        for (int i = 0; i < calls.size(); i++) {
            int index = i;
            assertThrows(IllegalStateException.class, calls.get(i)::run, "call " + index);
        }
    }
}
