package dev.cairn.bench.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The generator and the size tables, which bench/native/floor.c must reproduce bit for bit. */
class SizesTest {

    @Test
    void splitMix64MatchesTheReferenceSequence() {
        // The reference implementation (Vigna) from seed 0 starts with these values.
        SplitMix64 random = new SplitMix64(0);
        assertEquals(0xE220A8397B1DCDAFL, random.next());
        assertEquals(0x6E789E6AA1B965F4L, random.next());
        assertEquals(0x06C45D188009454FL, random.next());
    }

    @Test
    void octavesStayInRangeAndCoverEveryOctave() {
        int[] sizes = Sizes.octaves(new SplitMix64(1), 4096, 16, 32768);
        int[] perOctave = new int[16];
        for (int size : sizes) {
            assertTrue(size >= 16 && size <= 32768, "size " + size);
            perOctave[31 - Integer.numberOfLeadingZeros(size)]++;
        }
        for (int octave = 4; octave < 15; octave++) {
            assertTrue(perOctave[octave] > 4096 / 11 / 2, "octave " + octave + ": " + perOctave[octave]);
        }
    }

    @Test
    void permutationHoldsEveryIndexOnce() {
        int[] order = Sizes.permutation(new SplitMix64(3), 1000);
        int[] sorted = order.clone();
        Arrays.sort(sorted);
        int[] expected = new int[1000];
        Arrays.setAll(expected, i -> i);
        assertArrayEquals(expected, sorted);
        assertTrue(!Arrays.equals(expected, order), "shuffled");
    }
}
