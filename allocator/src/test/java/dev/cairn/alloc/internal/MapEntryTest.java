package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.alloc.Allocator;
import dev.cairn.segments.raw.Raw;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The map's entries: base and owner decode to what was encoded, for every segment size; and the owner an entry names
 * follows the segment (the thread that made it, nobody once abandoned, the adopter, nobody for a huge segment), which
 * is what lets a checked free of the owner skip the check in flight.
 */
class MapEntryTest {

    @Test
    void baseAndOwnerRoundTripForEverySegmentSize() {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        for (int shift = 22; shift <= 28; shift++) {
            long ownerLimit = 1L << (16 + shift); // 17 + shift owner bits, the top one the shared heaps'
            for (int i = 0; i < 10_000; i++) {
                long base = (1 + random.nextLong((1L << (47 - shift)) - 1)) << shift;
                long tid = switch (i % 4) {
                    case 0 -> 1 + random.nextLong(1 << 20);
                    case 1 -> ownerLimit - 1 - random.nextLong(1000);
                    case 2 -> 1 + random.nextLong(ownerLimit - 1);
                    default -> ownerLimit + random.nextLong(Long.MAX_VALUE - ownerLimit); // too large: nobody
                };
                long entry = MapEntry.of(base, tid, shift);
                String where = "seed " + seed + ", shift " + shift + ", base 0x" + Long.toHexString(base) + ", tid "
                        + tid;
                assertNotEquals(0, entry, where);
                assertEquals(base, MapEntry.base(entry, shift), where);
                assertEquals(tid < ownerLimit ? tid : 0, MapEntry.owner(entry, shift), where);
                assertEquals(0, MapEntry.owner(MapEntry.of(base, SegmentLayout.NO_OWNER, shift), shift));
                assertEquals(0, MapEntry.owner(MapEntry.of(base, SegmentLayout.SHARED_OWNER, shift), shift));
                assertEquals(-1, MapEntry.sharedHeap(MapEntry.owner(entry, shift), shift), where);
                int heapId = 1 + random.nextInt(1 << 20);
                long shared = MapEntry.ofSharedHeap(base, heapId, shift);
                assertEquals(base, MapEntry.base(shared, shift), where);
                assertEquals(heapId, MapEntry.sharedHeap(MapEntry.owner(shared, shift), shift), where);
                assertNotEquals(tid, MapEntry.owner(shared, shift), where + ": a shared heap is no thread");
            }
        }
        assertEquals(0, MapEntry.owner(0, 25)); // NOT_OURS names nobody
    }

    @Test
    void theOwnerAnEntryNamesFollowsTheSegment() throws Exception {
        try (Allocator created = Allocator.create()) {
            AllocatorImpl allocator = (AllocatorImpl) created;
            SegmentStore store = allocator.store();
            AtomicLong kept = new AtomicLong();
            AtomicLong huge = new AtomicLong();
            long[] makerTid = new long[1];
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            Thread maker = Thread.ofPlatform().uncaughtExceptionHandler((t, e) -> failure.set(e)).start(() -> {
                makerTid[0] = Thread.currentThread().threadId();
                kept.set(allocator.malloc(48));
                huge.set(allocator.malloc(8L << 20));
                assertEquals(makerTid[0], ownerOf(store, kept.get()));
                assertEquals(0, ownerOf(store, huge.get()), "any thread may release a huge segment");
                allocator.releaseCurrentThread(); // the kept block's segment goes to the pool
            });
            maker.join();
            assertNull(failure.get());
            long segment = store.segmentOf(kept.get());
            assertTrue(allocator.pool().contains(segment));
            assertEquals(0, ownerOf(store, kept.get()), "an abandoned segment names nobody");
            long[] adopterTid = new long[1];
            Thread adopter = Thread.ofPlatform().uncaughtExceptionHandler((t, e) -> failure.set(e)).start(() -> {
                adopterTid[0] = Thread.currentThread().threadId();
                long block = allocator.malloc(48); // adopts the pooled segment: it has room in this size class
                assertEquals(adopterTid[0], ownerOf(store, block));
                allocator.free(block);
                allocator.free(kept.get()); // now a local free of the adopter
            });
            adopter.join();
            assertNull(failure.get());
            assertFalse(allocator.pool().contains(segment), "the adopter took the segment");
            allocator.free(huge.get());
            allocator.validate();
            assertEquals(0, created.stats().blocksInUse());
        }
    }

    /**
     * A virtual thread's block lies in a segment whose entry names the shared heap it came from, by id: what lets a
     * checked free that takes that heap's lock free as its owner.
     */
    @Test
    void aSharedHeapsSegmentNamesTheHeap() throws Exception {
        try (Allocator created = Allocator.create()) {
            AllocatorImpl allocator = (AllocatorImpl) created;
            SegmentStore store = allocator.store();
            AtomicLong block = new AtomicLong();
            Thread.ofVirtual().start(() -> block.set(allocator.malloc(48))).join();
            long segment = store.segmentOf(block.get());
            int heapId = MapEntry.sharedHeap(ownerOf(store, block.get()), store.shift());
            assertTrue(heapId > 0, "names a shared heap");
            assertEquals(Raw.getInt(segment + SegmentLayout.SEG_HEAP_ID), heapId);
            allocator.free(block.get());
            allocator.validate();
            assertEquals(0, created.stats().blocksInUse());
        }
    }

    private static long ownerOf(SegmentStore store, long address) {
        return MapEntry.owner(store.map().lookup(address), store.shift());
    }
}
