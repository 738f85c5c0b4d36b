package dev.cairn.segments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.Segment.Backing;
import org.junit.jupiter.api.Test;

class SegmentTest {

    @Test
    void containsIsHalfOpen() {
        Segment s = new Segment(0x4000_0000L, 0x200_0000L, Backing.NORMAL);
        assertEquals(0x4200_0000L, s.end());
        assertTrue(s.contains(s.base()));
        assertTrue(s.contains(s.end() - 1));
        assertFalse(s.contains(s.end()));
        assertFalse(s.contains(s.base() - 1));
    }

    @Test
    void validates() {
        assertThrows(IllegalArgumentException.class, () -> new Segment(0, 0, Backing.NORMAL));
        assertThrows(IllegalArgumentException.class, () -> new Segment(-1, 4096, Backing.NORMAL));
        assertThrows(IllegalArgumentException.class, () -> new Segment(Long.MAX_VALUE - 10, 4096, Backing.NORMAL));
        assertThrows(NullPointerException.class, () -> new Segment(0, 4096, null));
    }

    @Test
    void alwaysCommittedBackings() {
        assertFalse(Backing.NORMAL.alwaysCommitted());
        assertFalse(Backing.TRANSPARENT_HUGE.alwaysCommitted());
        assertTrue(Backing.EXPLICIT_HUGE.alwaysCommitted());
        assertTrue(Backing.ARENA.alwaysCommitted());
    }

    @Test
    void toStringShowsHexBase() {
        assertEquals("Segment[base=0x2000000, size=33554432, backing=NORMAL]",
                new Segment(0x200_0000L, 0x200_0000L, Backing.NORMAL).toString());
    }
}
