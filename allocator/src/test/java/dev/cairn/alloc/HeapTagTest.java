package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Heap tags ({@code Allocator.heap(int)}, {@code visitBlocks(int, ...)}): blocks of one tag live in segments of
 * their own, a walk of one tag finds exactly its live blocks, and abandoned segments are adopted only by heaps of
 * their tag, through release, thread death, virtual threads and huge blocks.
 */
class HeapTagTest {

    private static Map<Long, Integer> blocksOfTag(Allocator allocator, int tag) {
        Map<Long, Integer> out = new HashMap<>();
        allocator.visitBlocks(tag, (address, usable, sizeClass, heapId) -> {
            assertEquals(null, out.put(address, heapId), "visited twice: 0x" + Long.toHexString(address));
            return true;
        });
        return out;
    }

    /** Set equality with a short message: how many are missing and extra, and a few of each. */
    private static void assertSameBlocks(Set<Long> expected, Set<Long> actual, String what) {
        Set<Long> missing = new HashSet<>(expected);
        missing.removeAll(actual);
        Set<Long> extra = new HashSet<>(actual);
        extra.removeAll(expected);
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new AssertionError(what + ": " + missing.size() + " blocks missing (e.g. "
                    + missing.stream().limit(3).map(Long::toHexString).toList() + "), " + extra.size()
                    + " unexpected (e.g. " + extra.stream().limit(3).map(Long::toHexString).toList() + ")");
        }
    }

    private static Set<Long> allBlocks(Allocator allocator) {
        Set<Long> out = new HashSet<>();
        allocator.visitBlocks((address, usable, sizeClass, heapId) -> out.add(address));
        return out;
    }


    @Test
    void tagsOutOfRangeAreRefused() {
        try (Allocator allocator = Allocator.create()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> allocator.heap(-1));
            assertTrue(e.getMessage().contains("-1"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> allocator.heap(Allocator.HEAP_TAGS));
            assertThrows(IllegalArgumentException.class, () -> allocator.visitBlocks(-1, (a, u, c, h) -> true));
            assertThrows(IllegalArgumentException.class,
                    () -> allocator.visitBlocks(Allocator.HEAP_TAGS, (a, u, c, h) -> true));
            assertSame(allocator.heap(), allocator.heap(0));
            assertSame(allocator.heap(3), allocator.heap(3));
            assertNotSame(allocator.heap(0), allocator.heap(3));
            allocator.validate();
        }
        Allocator closed = Allocator.create();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.heap(1));
        assertThrows(IllegalStateException.class, () -> closed.visitBlocks(1, (a, u, c, h) -> true));
    }

    /** Random mallocs and frees over every tag on one thread, checked against a model after every round. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void eachTagsWalkFindsExactlyItsBlocksInSegmentsOfItsOwn(boolean checked) {
        long seed = System.nanoTime();
        System.out.println("HeapTagTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            long segmentMask = -allocator.config().segmentSize();
            List<Map<Long, Long>> model = new ArrayList<>(); // per tag: address -> size
            for (int t = 0; t < Allocator.HEAP_TAGS; t++) {
                model.add(new HashMap<>());
            }
            for (int round = 0; round < 6; round++) {
                for (int op = 0; op < 3_000; op++) {
                    int tag = random.nextInt(Allocator.HEAP_TAGS);
                    Map<Long, Long> live = model.get(tag);
                    if (!live.isEmpty() && random.nextInt(3) == 0) {
                        long address = live.keySet().iterator().next();
                        Blocks.check(address, live.remove(address), address);
                        allocator.free(address);
                    } else {
                        long size = random.nextInt(50) == 0 ? 100_000 + random.nextInt(1 << 20)
                                : 1 + random.nextInt(2000);
                        long block = random.nextBoolean() ? allocator.heap(tag).malloc(size)
                                : allocator.heap(tag).mallocAligned(size, 1L << random.nextInt(10));
                        Blocks.fill(block, size, block);
                        live.put(block, size);
                    }
                }
                Map<Long, Integer> segmentTag = new HashMap<>();
                for (int tag = 0; tag < Allocator.HEAP_TAGS; tag++) {
                    Map<Long, Integer> visited = blocksOfTag(allocator, tag);
                    assertSameBlocks(model.get(tag).keySet(), visited.keySet(), "tag " + tag + ", seed " + seed);
                    for (long address : visited.keySet()) {
                        Integer other = segmentTag.put(address & segmentMask, tag);
                        assertTrue(other == null || other == tag, "segment of 0x" + Long.toHexString(address)
                                + " holds blocks of tags " + other + " and " + tag + ", seed " + seed);
                    }
                }
                allocator.validate();
            }
            for (Map<Long, Long> live : model) {
                live.forEach((address, size) -> {
                    Blocks.check(address, size, address);
                    allocator.free(address);
                });
            }
            assertTrue(allBlocks(allocator).isEmpty());
            allocator.validate();
        }
    }

    /**
     * A thread's tag-1 and tag-0 blocks, left behind when it releases its heaps: a thread that then allocates only
     * from tag 0 never adopts a tag-1 segment (its blocks never show up in tag 1's walk), and one that allocates
     * from tag 1 does adopt them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"release", "die"})
    void abandonedSegmentsAreAdoptedOnlyByHeapsOfTheirTag(String how) throws InterruptedException {
        try (Allocator allocator = Allocator.create()) {
            List<Long> tagged = new ArrayList<>();
            List<Long> plain = new ArrayList<>();
            OtherThread.run(() -> {
                for (int i = 0; i < 20_000; i++) {
                    long a = allocator.heap(1).malloc(64);
                    long b = allocator.malloc(64);
                    Blocks.fill(a, 64, a);
                    Blocks.fill(b, 64, b);
                    tagged.add(a);
                    plain.add(b);
                }
                // free every other block so that the abandoned segments have room in the bin
                for (int i = 0; i < tagged.size(); i += 2) {
                    allocator.free(tagged.get(i));
                    allocator.free(plain.get(i));
                }
                if (how.equals("release")) {
                    allocator.releaseCurrentThread();
                }
            });
            allocator.collect(false); // reaps the dead thread ("die")
            long pooled = allocator.stats().abandonedSegments();
            assertTrue(pooled >= 2, "abandoned segments: " + pooled);
            Set<Long> taggedLive = new HashSet<>();
            for (int i = 1; i < tagged.size(); i += 2) {
                taggedLive.add(tagged.get(i));
            }
            assertSameBlocks(taggedLive, blocksOfTag(allocator, 1).keySet(), "tag 1 after the release");

            long[] fresh = new long[30_000];
            for (int i = 0; i < fresh.length; i++) {
                fresh[i] = allocator.malloc(64); // tag 0: may adopt the tag-0 segment, never a tag-1 one
            }
            assertSameBlocks(taggedLive, blocksOfTag(allocator, 1).keySet(), "tag 1 after tag-0 mallocs (adopted?)");
            long reclaimedBefore = allocator.stats().segmentsReclaimed();
            long[] freshTagged = new long[2_000];
            for (int i = 0; i < freshTagged.length; i++) {
                freshTagged[i] = allocator.heap(1).malloc(64);
            }
            assertTrue(allocator.stats().segmentsReclaimed() > reclaimedBefore, "the tag-1 heap adopted nothing");
            Set<Long> expected = new HashSet<>(taggedLive);
            for (long b : freshTagged) {
                expected.add(b);
            }
            assertSameBlocks(expected, blocksOfTag(allocator, 1).keySet(), "tag 1 after tag-1 mallocs");
            allocator.validate();
            for (int i = 1; i < tagged.size(); i += 2) {
                Blocks.check(tagged.get(i), 64, tagged.get(i));
                Blocks.check(plain.get(i), 64, plain.get(i));
                allocator.free(tagged.get(i));
                allocator.free(plain.get(i));
            }
            for (long b : fresh) {
                allocator.free(b);
            }
            for (long b : freshTagged) {
                allocator.free(b);
            }
            assertTrue(allBlocks(allocator).isEmpty());
            allocator.validate();
        }
    }

    @Test
    void releasingOneTagsHeapKeepsTheOthers() {
        try (Allocator allocator = Allocator.create()) {
            Heap plain = allocator.heap();
            Heap tagged = allocator.heap(2);
            long a = plain.malloc(100);
            long b = tagged.malloc(100);
            tagged.release();
            assertSame(plain, allocator.heap());
            assertNotSame(tagged, allocator.heap(2));
            assertEquals(Set.of(b), blocksOfTag(allocator, 2).keySet());
            long c = allocator.heap(2).malloc(100);
            assertEquals(Set.of(b, c), blocksOfTag(allocator, 2).keySet());
            assertEquals(Set.of(a), blocksOfTag(allocator, 0).keySet());
            allocator.releaseCurrentThread();
            assertNotSame(plain, allocator.heap());
            allocator.free(a);
            allocator.free(b);
            allocator.free(c);
            assertTrue(allBlocks(allocator).isEmpty());
            allocator.validate();
        }
    }

    @Test
    void virtualThreadsAllocateFromTheirTagsSharedHeaps() throws InterruptedException {
        try (Allocator allocator = Allocator.create()) {
            Set<Long> blocks = ConcurrentHashMap.newKeySet();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 200; t++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 20; i++) {
                        long block = allocator.heap(5).malloc(48);
                        Blocks.fill(block, 48, block);
                        blocks.add(block);
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(4_000, blocks.size());
            assertSameBlocks(blocks, blocksOfTag(allocator, 5).keySet(), "tag 5");
            assertTrue(blocksOfTag(allocator, 0).isEmpty());
            assertTrue(allocator.stats().heapsLive() <= 2 * Math.max(2, Runtime.getRuntime().availableProcessors()) + 1,
                    "heaps: " + allocator.stats().heapsLive());
            allocator.validate();
            for (long b : blocks) {
                Blocks.check(b, 48, b);
                allocator.free(b);
            }
            assertTrue(allBlocks(allocator).isEmpty());
        }
    }

    @Test
    void aDeadThreadsHugeTaggedBlockStaysInItsTag() throws InterruptedException {
        try (Allocator allocator = Allocator.create()) {
            long[] block = new long[1];
            long size = 3 * allocator.config().segmentSize() / 2;
            OtherThread.run(() -> {
                block[0] = allocator.heap(7).malloc(size);
                Blocks.fill(block[0], 4096, 7);
            });
            allocator.collect(true);
            assertEquals(Set.of(block[0]), blocksOfTag(allocator, 7).keySet());
            assertFalse(blocksOfTag(allocator, 0).containsKey(block[0]));
            Blocks.check(block[0], 4096, 7);
            allocator.free(block[0]);
            assertTrue(blocksOfTag(allocator, 7).isEmpty());
            allocator.validate();
        }
    }
}
