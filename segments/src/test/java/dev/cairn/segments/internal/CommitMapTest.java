package dev.cairn.segments.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CommitMapTest {

    @Test
    void startsEmptyOrFull() {
        CommitMap empty = new CommitMap(130, false);
        CommitMap full = new CommitMap(130, true);
        assertEquals(0, empty.committedUnits());
        assertEquals(130, full.committedUnits());
        assertEquals(130, full.countCommitted(), "no bits beyond the last unit");
        assertTrue(full.allCommitted(0, 130));
        assertEquals(0, empty.nextClear(0, 130));
        assertEquals(130, full.nextClear(0, 130));
        assertEquals(130, empty.nextSet(0, 130));
    }

    @Test
    void setAndClearReportOnlyChanges() {
        CommitMap m = new CommitMap(512, false);
        assertEquals(10, m.set(60, 70)); // crosses a word boundary
        assertEquals(0, m.set(60, 70));
        assertEquals(5, m.set(65, 75));
        assertEquals(15, m.committedUnits());
        assertEquals(3, m.clear(58, 63));
        assertEquals(0, m.clear(0, 60));
        assertEquals(12, m.committedUnits());
        assertEquals(63, m.nextSet(0, 512));
        assertEquals(75, m.nextClear(63, 512));
        assertTrue(m.isCommitted(64));
        assertFalse(m.isCommitted(62));
        assertEquals(0, m.set(5, 5), "empty range");
    }

    @Test
    void wholeWordsAndTheLastUnit() {
        CommitMap m = new CommitMap(256, false);
        assertEquals(256, m.set(0, 256));
        assertEquals(64, m.clear(64, 128));
        assertEquals(64, m.nextClear(0, 256));
        assertEquals(128, m.nextSet(64, 256));
        assertEquals(1, m.clear(255, 256));
        assertEquals(255, m.nextClear(128, 256));
        assertEquals(256, m.nextSet(255, 256));
    }

    @Test
    void searchesStopAtTheGivenEnd() {
        CommitMap m = new CommitMap(200, false);
        m.set(150, 160);
        assertEquals(100, m.nextSet(0, 100), "set unit past 'to' is not found");
        assertEquals(150, m.nextSet(0, 200));
        assertEquals(155, m.nextClear(150, 155), "no clear unit before 'to'");
    }

    @Test
    void agreesWithBitSetOnRandomOperations() {
        SplittableRandom random = new SplittableRandom(42);
        for (int trial = 0; trial < 50; trial++) {
            int units = 1 + random.nextInt(700);
            CommitMap m = new CommitMap(units, false);
            BitSet model = new BitSet(units);
            for (int op = 0; op < 200; op++) {
                int from = random.nextInt(units + 1);
                int to = from + random.nextInt(units - from + 1);
                if (random.nextBoolean()) {
                    BitSet before = (BitSet) model.clone();
                    model.set(from, to);
                    assertEquals(model.cardinality() - before.cardinality(), m.set(from, to));
                } else {
                    BitSet before = (BitSet) model.clone();
                    model.clear(from, to);
                    assertEquals(before.cardinality() - model.cardinality(), m.clear(from, to));
                }
                int a = random.nextInt(units + 1);
                int b = a + random.nextInt(units - a + 1);
                int nextSet = model.nextSetBit(a);
                int nextClear = model.nextClearBit(a);
                assertEquals(nextSet < 0 || nextSet >= b ? b : nextSet, m.nextSet(a, b));
                assertEquals(nextClear >= b ? b : nextClear, m.nextClear(a, b));
                assertEquals(model.cardinality(), m.committedUnits());
            }
            assertEquals(model.cardinality(), m.countCommitted());
        }
    }

    @Test
    void rejectsEmptyMaps() {
        assertThrows(IllegalArgumentException.class, () -> new CommitMap(0, false));
    }
}
