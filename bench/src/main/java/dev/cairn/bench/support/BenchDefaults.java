package dev.cairn.bench.support;

/**
 * Settings shared by every Cairn JMH benchmark. JMH reads its annotations per class, so each benchmark class repeats
 * {@code @Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})}; the values live here.
 */
public final class BenchDefaults {
    /** Benchmarks run on the class path; Raw's reinterpret and the libc downcalls need native access there. */
    public static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    public static final int FORKS = 2;
    public static final int WARMUP_ITERATIONS = 3;
    public static final int MEASUREMENT_ITERATIONS = 5;

    private BenchDefaults() {
    }
}
