package dev.cairn.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The size distributions of the glibc-thread and rptest ports have the shape their originals draw. */
class SizeDistributionsTest {

    @Test
    void inverseSquareSizesAreMostlyTinyAndStayInRange() {
        int[] sizes = GlibcThreadWorkload.inverseSquare(new SplitMix64(1), 100_000, 4, 32768);
        assertTrue(Arrays.stream(sizes).allMatch(s -> s >= 4 && s <= 32768));
        // P(size <= 8) = (1/4 - 1/8) / (1/4 - 1/32768) = 0.5; P(size > 1024) is about 0.4%.
        double atMost8 = Arrays.stream(sizes).filter(s -> s <= 8).count() / 100_000.0;
        double above1k = Arrays.stream(sizes).filter(s -> s > 1024).count() / 100_000.0;
        assertEquals(0.5, atMost8, 0.05, "share of sizes <= 8");
        assertEquals(0.004, above1k, 0.002, "share of sizes > 1 KiB");
        assertTrue(Arrays.stream(sizes).anyMatch(s -> s > 16384), "the tail reaches the top");
    }

    @Test
    void linearDropOffSizesThinOutTowardsTheMaximum() {
        int[] sizes = RptestWorkload.linearDropOff(new SplitMix64(2), 100_000, 16, 16000);
        assertTrue(Arrays.stream(sizes).allMatch(s -> s >= 16 && s <= 16000));
        // Density falling linearly to 0 at the maximum: mean at a third of the range, 75% in the lower half.
        double mean = Arrays.stream(sizes).average().orElseThrow();
        assertEquals(16 + (16000 - 16) / 3.0, mean, 100);
        double lowerHalf = Arrays.stream(sizes).filter(s -> s < 8008).count() / 100_000.0;
        assertEquals(0.75, lowerHalf, 0.02);
    }

    @Test
    void aSingleSizeRangeGivesThatSize() {
        assertTrue(Arrays.stream(GlibcThreadWorkload.inverseSquare(new SplitMix64(3), 100, 64, 64))
                .allMatch(s -> s == 64));
        assertTrue(Arrays.stream(RptestWorkload.linearDropOff(new SplitMix64(3), 100, 64, 64))
                .allMatch(s -> s == 64));
    }
}
