package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link PageSet} against a {@code HashSet} model, on descriptor-like addresses (128 bytes apart, few segments). */
class PageSetTest {

    /** A descriptor address: one of four 32 MiB segments, one of 512 pages, so probe runs collide and wrap. */
    private static long page(SplittableRandom random) {
        long segment = (0x7f00_0000_0000L + random.nextInt(4) * (32L << 20));
        return segment + 128 + random.nextInt(512) * 128L;
    }

    @Test
    void randomAddsAndRemovesMatchAModel() {
        long seed = System.nanoTime();
        System.out.println("PageSetTest seed " + seed + " (replay: set it in the test)");
        SplittableRandom random = new SplittableRandom(seed);
        PageSet set = new PageSet();
        Set<Long> model = new HashSet<>();
        List<Long> added = new ArrayList<>();
        for (int op = 0; op < 200_000; op++) {
            // Phases that grow the set past several rehashes and drain it again, so deletions run in full tables.
            boolean grow = (op / 20_000) % 2 == 0;
            long page = !grow && !added.isEmpty() && random.nextInt(4) != 0
                    ? added.get(random.nextInt(added.size())) : page(random);
            if (random.nextInt(10) < (grow ? 7 : 3)) {
                assertEquals(model.add(page), set.add(page), "add " + Long.toHexString(page) + "; seed " + seed);
                added.add(page);
            } else {
                assertEquals(model.remove(page), set.remove(page), "remove " + Long.toHexString(page) + "; seed " + seed);
            }
            assertEquals(model.size(), set.size(), "size; seed " + seed);
            long probe = page(random);
            assertEquals(model.contains(probe), set.contains(probe), "contains " + Long.toHexString(probe) + "; seed " + seed);
        }
        long[] all = set.toArray();
        assertEquals(model.size(), all.length, "seed " + seed);
        for (long page : all) {
            assertTrue(model.contains(page), "listed " + Long.toHexString(page) + "; seed " + seed);
        }
        for (long page : model) {
            assertTrue(set.remove(page), "seed " + seed);
        }
        assertEquals(0, set.size());
        assertArrayEquals(new long[0], set.toArray());
    }

    @Test
    void zeroIsNeverAPage() {
        PageSet set = new PageSet();
        assertThrows(IllegalArgumentException.class, () -> set.add(0));
        assertFalse(set.contains(0));
        assertFalse(set.remove(0));
    }
}
