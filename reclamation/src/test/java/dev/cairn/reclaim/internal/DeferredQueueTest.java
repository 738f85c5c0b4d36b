package dev.cairn.reclaim.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeferredQueueTest {

    @Test
    void runsReachedItemsOldestFirstAndStopsAtTheFirstUnreached() {
        DeferredQueue q = new DeferredQueue();
        List<Long> freed = new ArrayList<>();
        q.push(3, 0x30, 10, null);
        q.push(5, 0x50, 20, null);
        q.push(7, 0x70, 30, null);
        assertEquals(3, q.headGoal());
        assertEquals(60, q.bytes());
        assertEquals(2, q.runReached(5, freed::add));
        assertEquals(List.of(0x30L, 0x50L), freed);
        assertEquals(7, q.headGoal());
        assertEquals(30, q.bytes());
        assertEquals(0, q.runReached(5, freed::add));
        assertEquals(1, q.runReached(Seq.NEVER - 1, freed::add));
        assertEquals(Seq.NEVER, q.headGoal());
        assertTrue(q.isEmpty());
        assertEquals(3, q.counter(DeferredQueue.PROCESSED_ITEMS));
        assertEquals(60, q.counter(DeferredQueue.PROCESSED_BYTES));
        assertEquals(60, q.counter(DeferredQueue.PEAK_BYTES));
        assertEquals(0, q.counter(DeferredQueue.BYTES));
    }

    @Test
    void aLowerGoalIsRaisedToKeepGoalsMonotone() {
        DeferredQueue q = new DeferredQueue();
        q.push(9, 1, 0, null);
        q.push(5, 2, 0, null); // taken with an older goal: it waits for 9 as well, which is only later
        assertEquals(9, q.lastGoal());
        List<Long> freed = new ArrayList<>();
        assertEquals(0, q.runReached(7, freed::add), "the raised item does not jump the queue");
        assertEquals(2, q.runReached(9, freed::add));
    }

    @Test
    void theRingGrowsAcrossTheWrapAndShrinksWhenDrained() {
        DeferredQueue q = new DeferredQueue();
        List<Long> freed = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            q.push(1, i, 1, null);
        }
        q.runReached(1, freed::add); // head is now in the middle of the ring
        for (int i = 0; i < 10_000; i++) {
            q.push(3 + 2L * i, 100 + i, 1, null);
        }
        assertEquals(10_000, q.size());
        q.runReached(Seq.NEVER - 1, freed::add);
        assertEquals(10_010, freed.size());
        for (int i = 0; i < 10_000; i++) {
            assertEquals(100 + i, freed.get(10 + i), "order kept across growth");
        }
        assertTrue(q.isEmpty());
        q.push(Seq.NEVER - 1, 7, 1, null);
        assertEquals(1, q.size(), "usable after shrinking");
    }

    @Test
    void tasksRunAndAFailingItemLeavesTheQueueConsistent() {
        DeferredQueue q = new DeferredQueue();
        int[] ran = new int[1];
        q.push(1, 0, 0, () -> ran[0]++);
        q.push(1, 0, 0, () -> {
            throw new IllegalStateException("boom");
        });
        q.push(1, 0x10, 16, null);
        List<Long> freed = new ArrayList<>();
        assertThrows(IllegalStateException.class, () -> q.runReached(1, freed::add));
        assertEquals(1, ran[0]);
        assertEquals(1, q.size(), "the failed item left, the next one stays");
        assertEquals(16, q.bytes());
        assertEquals(1, q.runReached(1, freed::add));
        assertEquals(List.of(0x10L), freed);
    }

    @Test
    void policyCountersCount() {
        DeferredQueue q = new DeferredQueue();
        q.count(DeferredQueue.FORCED_ADVANCES);
        q.count(DeferredQueue.FORCED_ADVANCES);
        q.count(DeferredQueue.LIMIT_OVERRUNS);
        assertEquals(2, q.counter(DeferredQueue.FORCED_ADVANCES));
        assertEquals(1, q.counter(DeferredQueue.LIMIT_OVERRUNS));
    }
}
