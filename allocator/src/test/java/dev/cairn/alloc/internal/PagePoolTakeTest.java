package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * {@link PagePool#take}'s choice among an idle heap's pages, on page descriptors written by hand in a zeroed stand-in
 * segment, with a stand-in for "who is busy" that the test sets: deterministic where the public-API tests
 * ({@code PagePoolTest}) depend on threads' timing.
 */
class PagePoolTakeTest {

    private static final long SEGMENT_SIZE = 1 << 20;
    private static final int BIN = 3;
    private static final int IDLE_GIVER = 7;
    private static final long TAKER_TID = 1001;
    private static final long OTHER_TID = 1002;

    /** The other thread needs pages of {@link #BIN} (it looked for one within the last millisecond). */
    private boolean otherNeedsTheBin;

    private final PagePool pool = new PagePool(SEGMENT_SIZE, new PagePool.BusyHeap() {
        @Override
        public boolean ranSince(int heapId, long since) {
            return false; // every giver is idle
        }

        @Override
        public boolean needsPagesSince(int tid, int bin, long since) {
            return tid == (int) OTHER_TID && bin == BIN && otherNeedsTheBin;
        }
    });

    /** A page of {@link #BIN} with room, last freed into by {@code lastFreer} (0: nobody), given by the idle heap. */
    private long pooledPage(long segment, int index, long lastFreer) {
        long page = descriptor(segment, index);
        Raw.putInt(page + SegmentLayout.BIN, BIN);
        Raw.putInt(page + RESERVED, 100);
        Raw.putInt(page + USED, 100);
        Raw.putLong(page + XTHREAD_FREE, 0x1000); // a block freed by another thread: room
        Raw.putInt(page + LAST_FREER, (int) lastFreer);
        pool.give(page, IDLE_GIVER, 77);
        return page;
    }

    @Test
    void aPageAnotherThreadFreesIntoIsLeftToItWhileItNeedsTheBin() {
        try (Arena arena = Arena.ofConfined()) {
            long segment = arena.allocate(SEGMENT_SIZE, SEGMENT_SIZE).fill((byte) 0).address();
            long othersPage = pooledPage(segment, 1, OTHER_TID);
            otherNeedsTheBin = true;
            assertEquals(0, pool.take(0, BIN, TAKER_TID, 5), "left to the thread that frees into it");
            otherNeedsTheBin = false;
            assertEquals(othersPage, pool.take(0, BIN, TAKER_TID, 5), "taken once that thread no longer needs the bin");
        }
    }

    @Test
    void aPageTheTakerFreesIntoComesBeforeOlderOnes() {
        try (Arena arena = Arena.ofConfined()) {
            long segment = arena.allocate(SEGMENT_SIZE, SEGMENT_SIZE).fill((byte) 0).address();
            long nobodys = pooledPage(segment, 1, 0);
            long takers = pooledPage(segment, 2, TAKER_TID);
            assertEquals(takers, pool.take(0, BIN, TAKER_TID, 5), "the taker's own first");
            assertEquals(nobodys, pool.take(0, BIN, TAKER_TID, 5), "then one nobody else frees into");
            assertEquals(0, pool.take(0, BIN, TAKER_TID, 5));
        }
    }

    @Test
    void pagesWithoutRoomMoveToTheBackSoTheNextLookSeesOthers() {
        try (Arena arena = Arena.ofConfined()) {
            long segment = arena.allocate(SEGMENT_SIZE, SEGMENT_SIZE).fill((byte) 0).address();
            for (int i = 1; i <= 40; i++) { // more than one look covers, none with room
                long page = pooledPage(segment, i, 0);
                Raw.putLong(page + XTHREAD_FREE, 0);
            }
            long withRoom = pooledPage(segment, 41, 0);
            assertEquals(0, pool.take(0, BIN, TAKER_TID, 5), "the first look sees 32 pages without room");
            assertEquals(withRoom, pool.take(0, BIN, TAKER_TID, 5), "the next starts behind them");
        }
    }

    @Test
    void pagesLeaveFromAnywhereInTheirGiversListAndTheRestKeepTheirOrder() {
        try (Arena arena = Arena.ofConfined()) {
            long segment = arena.allocate(SEGMENT_SIZE, SEGMENT_SIZE).fill((byte) 0).address();
            long[] pages = new long[7];
            for (int i = 1; i <= 6; i++) {
                pages[i] = pooledPage(segment, i, 0);
            }
            for (int i : new int[] {1, 3, 6}) { // the head, one in the middle, the tail
                assertTrue(pool.reclaim(pages[i]), "page " + i + " was pooled");
                assertEquals(0, Raw.getLong(pages[i] + NEXT), "page " + i + " leaves with clean links");
                assertEquals(0, Raw.getLong(pages[i] + PREV), "page " + i + " leaves with clean links");
                assertFalse(pool.reclaim(pages[i]), "page " + i + " is no longer pooled");
            }
            assertEquals(3, pool.size());
            for (int i : new int[] {2, 4, 5}) {
                assertEquals(pages[i], pool.take(0, BIN, TAKER_TID, 5), "oldest first");
            }
            assertEquals(0, pool.take(0, BIN, TAKER_TID, 5));
            assertEquals(0, pool.size());
            assertFalse(pool.mayHave(0, BIN));
        }
    }

    @Test
    void validationFindsABrokenList() {
        try (Arena arena = Arena.ofConfined()) {
            long segment = arena.allocate(SEGMENT_SIZE, SEGMENT_SIZE).fill((byte) 0).address();
            long first = pooledPage(segment, 1, 0);
            long second = pooledPage(segment, 2, 0);
            long third = pooledPage(segment, 3, 0);
            assertNull(pool.validate(), "a pool as built");
            Raw.putLong(third + PREV, first);
            assertTrue(pool.validate().contains("links back to"), pool.validate());
            Raw.putLong(third + PREV, second);
            Raw.putLong(third + NEXT, first); // a cycle: found, and the walk ends
            assertNotNull(pool.validate());
            Raw.putLong(third + NEXT, 0);
            assertNull(pool.validate(), "mended");
        }
    }
}
