package dev.cairn.bench.alloc;

import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.bench.support.MallocPeer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-thread malloc/free, per allocator, in nanoseconds per malloc+free pair.
 *
 * <p>{@code pair}: malloc then free at once, sizes 16 to 1024 bytes drawn from a fixed random table (the same for
 * every peer). {@code batch}: {@value #BATCH} blocks of 16 to 1024 bytes allocated, then freed in random order;
 * the score is per pair. Cairn goes through {@code Allocator.malloc/free} (thread-local heap lookup included), or a
 * held {@code Heap} ({@code -heap}); glibc through critical downcalls ({@code glibc}) or default ones
 * ({@code glibc-plain}, see {@link MallocPeer}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class MallocFreeBenchmark {

    static final int BATCH = 10_000;
    private static final int SIZES = 1024;

    @Param({"cairn-checked", "cairn-unchecked", "cairn-checked-heap", "cairn-unchecked-heap", "glibc", "glibc-plain",
            "arena"})
    public String peer;

    private MallocPeer allocator;
    private long[] sizes;
    private int[] freeOrder;
    private long[] handles;
    private int next;

    @Setup
    public void setUp() {
        allocator = MallocPeer.create(peer);
        SplittableRandom random = new SplittableRandom(11);
        sizes = new long[SIZES];
        for (int i = 0; i < SIZES; i++) {
            sizes[i] = 16 + random.nextInt(1024 - 16 + 1);
        }
        freeOrder = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            freeOrder[i] = i;
        }
        for (int i = BATCH - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = freeOrder[i];
            freeOrder[i] = freeOrder[j];
            freeOrder[j] = t;
        }
        handles = new long[BATCH];
    }

    @TearDown
    public void tearDown() {
        allocator.close();
    }

    @Benchmark
    public long pair() {
        long size = sizes[next++ & (SIZES - 1)];
        long p = allocator.malloc(size);
        allocator.free(p);
        return p;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long batch() {
        MallocPeer a = allocator;
        long[] h = handles;
        long[] s = sizes;
        for (int i = 0; i < BATCH; i++) {
            h[i] = a.malloc(s[i & (SIZES - 1)]);
        }
        for (int i = 0; i < BATCH; i++) {
            a.free(h[freeOrder[i]]);
        }
        return h[0];
    }
}
