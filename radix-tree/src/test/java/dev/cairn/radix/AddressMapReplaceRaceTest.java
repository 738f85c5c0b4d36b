package dev.cairn.radix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.radix.internal.RadixLayout;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Readers look up the granules of mapped ranges while a writer replaces their values over and over: a lookup never
 * answers {@link AddressMap#NOT_OURS} for a range that stays mapped (the allocator moves a segment's owner this way
 * while other threads free into it), and per granule a reader never sees an older value after a newer one. One range
 * lies inside the flat window, one crosses a leaf boundary outside it, so both copies are exercised.
 */
class AddressMapReplaceRaceTest {

    private static final int SHIFT = 22;
    private static final long G = 1L << SHIFT;
    private static final int ROUNDS = 20;
    private static final long MILLIS_PER_ROUND = 40;

    @Test
    void lookupsNeverMissARangeWhoseValueIsBeingReplaced() throws InterruptedException {
        RadixLayout layout = RadixLayout.forGranuleShift(SHIFT);
        long leafSpan = layout.leafSpan();
        long inWindow = 0x7f00_0000_0000L;
        // A leaf boundary more than a window's length below: the first insert centres the window on inWindow.
        long acrossLeaves = ((inWindow - 2L * RadixLayout.WINDOW_LENGTH * G) & -leafSpan) - leafSpan - 2 * G;
        long[][] ranges = {{inWindow, 3}, {acrossLeaves, 4}};
        for (int round = 0; round < ROUNDS; round++) {
            AddressMap map = AddressMap.create(SHIFT);
            for (long[] range : ranges) {
                map.insert(range[0], range[1] * G, 1);
            }
            long deadline = System.nanoTime() + MILLIS_PER_ROUND * 1_000_000;
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLong lookups = new AtomicLong();
            long seed = System.nanoTime() + round;
            Thread[] readers = new Thread[2];
            for (int r = 0; r < readers.length; r++) {
                SplittableRandom random = new SplittableRandom(seed + r);
                readers[r] = new Thread(() -> {
                    long[][] lastSeen = {new long[3], new long[4]};
                    long n = 0;
                    while (System.nanoTime() < deadline && failure.get() == null) {
                        int which = random.nextInt(2);
                        int granule = random.nextInt((int) ranges[which][1]);
                        long address = ranges[which][0] + granule * G + random.nextLong(G);
                        long value = map.lookup(address);
                        if (value < lastSeen[which][granule]) { // NOT_OURS (0) included
                            failure.compareAndSet(null, "seed " + seed + ": 0x" + Long.toHexString(address)
                                    + " read " + value + " after " + lastSeen[which][granule]);
                        }
                        lastSeen[which][granule] = value;
                        n++;
                    }
                    lookups.addAndGet(n);
                });
                readers[r].start();
            }
            long value = 1;
            while (System.nanoTime() < deadline && failure.get() == null) {
                value++;
                for (long[] range : ranges) {
                    assertEquals(value - 1, map.replace(range[0], range[1] * G, value));
                }
            }
            for (Thread reader : readers) {
                reader.join();
            }
            assertNull(failure.get());
            assertTrue(lookups.get() > 0 && value > 2, "the race ran: " + lookups.get() + " lookups, " + value);
            map.validate();
        }
    }
}
