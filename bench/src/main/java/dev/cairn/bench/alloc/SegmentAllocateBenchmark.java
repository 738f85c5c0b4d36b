package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.bench.support.BenchDefaults;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The FFM side of the allocator, single thread, nanoseconds per allocation + free of 16 to 1024 bytes (the sizes
 * of {@link MallocFreeBenchmark}): {@code allocateFree} is {@code Allocator.allocate(size, 8)} (a
 * {@code MemorySegment} in the allocator's scope; its segment marked exposed) then {@code free(MemorySegment)};
 * {@code mallocFree} the same block through {@code malloc/free} on raw addresses, so the difference is what the
 * segment costs; {@code confinedArena} is the JDK's way to get one segment with a lifetime of its own, an
 * {@code Arena.ofConfined()} opened, allocated from once and closed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class SegmentAllocateBenchmark {

    private static final int SIZES = 1024;

    @Param({"true", "false"})
    public boolean checked;

    private Allocator allocator;
    private long[] sizes;
    private int next;

    @Setup
    public void setUp() {
        allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build());
        SplittableRandom random = new SplittableRandom(11);
        sizes = new long[SIZES];
        for (int i = 0; i < SIZES; i++) {
            sizes[i] = 16 + random.nextInt(1024 - 16 + 1);
        }
    }

    @TearDown
    public void tearDown() {
        allocator.close();
    }

    @Benchmark
    public MemorySegment allocateFree() {
        MemorySegment segment = allocator.allocate(sizes[next++ & (SIZES - 1)], 8);
        allocator.free(segment);
        return segment;
    }

    @Benchmark
    public long mallocFree() {
        long address = allocator.malloc(sizes[next++ & (SIZES - 1)]);
        allocator.free(address);
        return address;
    }

    @Benchmark
    public MemorySegment confinedArena() {
        try (Arena arena = Arena.ofConfined()) {
            return arena.allocate(sizes[next++ & (SIZES - 1)], 8);
        }
    }
}
