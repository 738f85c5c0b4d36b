package dev.cairn.bench.workload;

/**
 * Size tables drawn up front, so the timed loops only index an array. Both distributions are mirrored in
 * {@code bench/native/floor.c}.
 */
public final class Sizes {
    private Sizes() {
    }

    /** Uniform sizes in {@code [min, max]}. */
    public static int[] uniform(SplitMix64 random, int count, int min, int max) {
        int[] sizes = new int[count];
        for (int i = 0; i < count; i++) {
            sizes[i] = min + random.nextInt(max - min + 1);
        }
        return sizes;
    }

    /**
     * Skewed sizes in {@code [min, max]}: a power-of-two octave picked uniformly, then a size uniform inside it, so
     * each octave (16-31, 32-63, ..., 16-32 KiB) gets as many requests and small blocks dominate the count, as in
     * programs and in alloc-test.
     */
    public static int[] octaves(SplitMix64 random, int count, int min, int max) {
        int low = 31 - Integer.numberOfLeadingZeros(min);
        int high = 31 - Integer.numberOfLeadingZeros(max);
        int[] sizes = new int[count];
        for (int i = 0; i < count; i++) {
            int octave = low + random.nextInt(high - low + 1);
            int size = (1 << octave) + random.nextInt(1 << octave);
            sizes[i] = Math.max(min, Math.min(max, size));
        }
        return sizes;
    }

    /** A random permutation of {@code 0..count-1} (Fisher-Yates, as floor.c does it). */
    public static int[] permutation(SplitMix64 random, int count) {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
