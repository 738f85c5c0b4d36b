package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AllocatorTest {

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void everySizeUpTo1024HoldsItsContents(boolean checked) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            List<long[]> blocks = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (long size = 0; size <= 1024; size++) {
                    long p = allocator.malloc(size);
                    assertNotEquals(0, p);
                    assertEquals(0, p % 16, "16-byte alignment");
                    assertTrue(allocator.usableSize(p) >= Math.max(size, 1));
                    Blocks.fill(p, size, p ^ size);
                    blocks.add(new long[] {p, size});
                }
            }
            for (long[] block : blocks) {
                Blocks.check(block[0], block[1], block[0] ^ block[1]);
            }
            allocator.validate();
            for (long[] block : blocks) {
                allocator.free(block[0]);
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void sizeClassBoundariesUpToHuge() {
        try (Allocator allocator = Allocator.create()) {
            Map<Long, Long> live = new HashMap<>();
            long size = 1024;
            while (size <= (2L << 20)) {
                for (long s : new long[] {size - 1, size, size + 1}) {
                    long p = allocator.malloc(s);
                    long usable = allocator.usableSize(p);
                    assertTrue(usable >= s);
                    Blocks.fill(p, usable, p);
                    live.put(p, usable);
                }
                size += size / 4;
            }
            live.forEach((p, usable) -> Blocks.check(p, usable, p));
            allocator.validate();
            live.keySet().forEach(allocator::free);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    @Test
    void hugeBlocksGetTheirOwnSegmentAndGoBack() {
        try (Allocator allocator = Allocator.create()) {
            long segmentsBefore = allocator.stats().liveSegments();
            long p = allocator.malloc(100L << 20);
            assertTrue(allocator.owns(p));
            assertTrue(allocator.owns(p + (100L << 20) - 1));
            Blocks.fill(p + (50L << 20), 4096, 7);
            Blocks.check(p + (50L << 20), 4096, 7);
            assertEquals(segmentsBefore + 1, allocator.stats().liveSegments());
            allocator.validate();
            allocator.free(p);
            assertFalse(allocator.owns(p));
            assertEquals(segmentsBefore, allocator.stats().liveSegments());
        }
    }

    @Test
    void alignedAllocationForEveryPowerOfTwo() {
        try (Allocator allocator = Allocator.create()) {
            List<Long> blocks = new ArrayList<>();
            for (long alignment = 1; alignment <= (4L << 20); alignment <<= 1) {
                for (long size : new long[] {1, 24, alignment, alignment + 8, 3 * alignment}) {
                    long p = allocator.mallocAligned(size, alignment);
                    assertEquals(0, p % alignment, "size " + size + " alignment " + alignment);
                    assertTrue(allocator.usableSize(p) >= size);
                    Blocks.fill(p, Math.min(size, 1 << 16), p);
                    blocks.add(p);
                }
            }
            allocator.validate();
            blocks.forEach(allocator::free);
            allocator.validate();
        }
    }

    @Test
    void reallocKeepsContentsGrowingAndShrinking() {
        try (Allocator allocator = Allocator.create()) {
            long p = allocator.malloc(10);
            Blocks.fill(p, 10, 1);
            long size = 10;
            while (size < (3L << 20)) {
                long bigger = size * 3;
                long q = allocator.realloc(p, bigger);
                Blocks.check(q, size, 1);
                Blocks.fill(q, bigger, 1);
                p = q;
                size = bigger;
            }
            while (size > 4) {
                long smaller = size / 5;
                long q = allocator.realloc(p, smaller);
                Blocks.check(q, smaller, 1);
                p = q;
                size = smaller;
            }
            long same = allocator.realloc(p, allocator.usableSize(p));
            assertEquals(p, same, "in place when the usable size allows");
            allocator.free(same);
            long fresh = allocator.realloc(0, 40);
            assertTrue(allocator.usableSize(fresh) >= 40);
            allocator.free(fresh);
            allocator.validate();
        }
    }

    @Test
    void callocZeroesReusedMemory() {
        try (Allocator allocator = Allocator.create()) {
            for (int i = 0; i < 100; i++) {
                long dirty = allocator.malloc(200);
                Blocks.fill(dirty, 200, i);
                allocator.free(dirty);
                long p = allocator.calloc(25, 8);
                for (int b = 0; b < 200; b++) {
                    assertEquals(0, Blocks.view(p, 200).get(java.lang.foreign.ValueLayout.JAVA_BYTE, b));
                }
                allocator.free(p);
            }
            long zero = allocator.calloc(0, 10);
            allocator.free(zero);
        }
    }

    @Test
    void freeFillPoisonsFreedBlocks() {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().freeFill(0xDF).build())) {
            long keep = allocator.malloc(64); // keeps the page alive
            long p = allocator.malloc(64);
            allocator.free(p);
            for (int b = 8; b < 64; b++) {
                assertEquals((byte) 0xDF, Blocks.view(p, 64).get(java.lang.foreign.ValueLayout.JAVA_BYTE, b));
            }
            allocator.free(keep);
        }
    }

    @Test
    void visitBlocksSeesExactlyTheLiveBlocks() {
        try (Allocator allocator = Allocator.create()) {
            Map<Long, Long> live = new HashMap<>();
            for (int i = 0; i < 5000; i++) {
                long size = 1 + (i * 37L) % 3000;
                live.put(allocator.malloc(size), size);
            }
            live.put(allocator.malloc(3L << 20), 3L << 20);
            int n = 0;
            for (Long p : new ArrayList<>(live.keySet())) {
                if (n++ % 3 == 0) {
                    allocator.free(p);
                    live.remove(p);
                }
            }
            Map<Long, Long> seen = new HashMap<>();
            allocator.visitBlocks((address, usable, bin, heap) -> {
                seen.put(address, usable);
                return true;
            });
            assertEquals(live.keySet(), seen.keySet());
            live.forEach((p, size) -> assertTrue(seen.get(p) >= size));
            assertEquals(live.size(), allocator.stats().blocksInUse());
            int[] visited = {0};
            allocator.visitBlocks((address, usable, bin, heap) -> ++visited[0] < 10);
            assertEquals(10, visited[0], "returning false stops the walk");
        }
    }

    @Test
    void aVisitorMayFreeTheBlocksItVisitsEvenTheLastOfASegment() {
        // the walk holds the segment store's read lock; giving a segment back takes its write lock: a visitor that
        // freed a huge block (or a segment's last block) waited for its own thread forever. Everything runs on the
        // timeout's thread, which owns the blocks, so a hang fails the test instead of the build.
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> {
            try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(java.time.Duration.ZERO)
                    .build())) {
                for (int i = 0; i < 3; i++) {
                    allocator.malloc(40L << 20); // huge: a segment each
                }
                for (int i = 0; i < 2000; i++) {
                    allocator.malloc(48 + (i % 7) * 100);
                }
                long reservedBefore = allocator.stats().reservedBytes();
                allocator.visitBlocks((address, usable, bin, heap) -> {
                    allocator.free(address);
                    return true;
                });
                assertEquals(0, allocator.stats().blocksInUse());
                allocator.collect(false); // released huge segments stay mapped in the store's cache until then
                assertTrue(allocator.stats().reservedBytes() < reservedBefore, "the huge segments were given back");
                allocator.validate();
                long p = allocator.malloc(64);
                allocator.free(p);
                allocator.validate();
            }
        });
    }

    @Test
    void collectReturnsFreedMemory() {
        try (Allocator allocator = Allocator.create()) {
            long committedStart = allocator.stats().committedBytes();
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 200_000; i++) {
                long p = allocator.malloc(256);
                dev.cairn.alloc.Blocks.view(p, 256).fill((byte) 1);
                blocks.add(p);
            }
            AllocatorStats full = allocator.stats();
            assertTrue(full.committedBytes() > 40L << 20, full.toJson());
            blocks.forEach(allocator::free);
            allocator.collect(true);
            AllocatorStats after = allocator.stats();
            assertEquals(0, after.blocksInUse());
            assertTrue(after.committedBytes() - committedStart < full.committedBytes() / 10, after.toJson());
        }
    }

    @Test
    void statsSnapshotIsConsistentAndSerializes() {
        try (Allocator allocator = Allocator.create()) {
            long a = allocator.malloc(100);
            long b = allocator.malloc(5000);
            AllocatorStats stats = allocator.stats();
            assertEquals(2, stats.blocksInUse());
            assertEquals(112 + 5120, stats.allocatedBytes());
            assertTrue(stats.committedBytes() > 0 && stats.reservedBytes() >= stats.committedBytes());
            assertTrue(stats.toJson().contains("\"blocksInUse\":2"));
            allocator.free(a);
            allocator.free(b);
        }
    }
}
