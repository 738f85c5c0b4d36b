package dev.cairn.bench.workload;

/**
 * The SplitMix64 generator, written out so that the native C floor ({@code bench/native/floor.c}) draws the very
 * same sizes and free orders as the Java workloads from the same seed. Not thread-safe: one per thread.
 */
public final class SplitMix64 {
    private long state;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    public long next() {
        long z = state += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in {@code [0, bound)}; the small modulo bias does not matter here, and C computes the same. */
    public int nextInt(int bound) {
        return (int) ((next() >>> 1) % bound);
    }
}
