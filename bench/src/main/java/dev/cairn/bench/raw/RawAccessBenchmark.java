package dev.cairn.bench.raw;

import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one access through {@link Raw} costs next to the Java alternatives, single-threaded, uncontended.
 *
 * <p>Each pair of benchmarks does the same thing to an off-heap word (through {@code Raw}) and to an on-heap one
 * (a plain field, an {@link AtomicLong}): a read, a write, a release write, a successful CAS. {@code segment*} reads
 * the same off-heap word through an ordinary bounded {@link MemorySegment}, the FFM API's own cost. The address is
 * read from a field each time so the JIT cannot hoist the access out of the benchmark loop.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class RawAccessBenchmark {

    private Arena arena;
    private MemorySegment segment;
    private long address;
    private long field;
    private final AtomicLong atomic = new AtomicLong();
    private long value = 42;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        segment = arena.allocate(64, 64);
        address = segment.address();
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public long rawGet() {
        return Raw.getLong(address);
    }

    @Benchmark
    public long fieldGet() {
        return field;
    }

    @Benchmark
    public long segmentGet() {
        return segment.get(ValueLayout.JAVA_LONG, 0);
    }

    @Benchmark
    public void rawPut() {
        Raw.putLong(address, value++);
    }

    @Benchmark
    public void fieldPut() {
        field = value++;
    }

    @Benchmark
    public void rawPutRelease() {
        Raw.putLongRelease(address, value++);
    }

    @Benchmark
    public void atomicLongLazySet() {
        atomic.lazySet(value++);
    }

    @Benchmark
    public boolean rawCas() {
        long a = address;
        long v = Raw.getLong(a);
        return Raw.casLong(a, v, v + 1);
    }

    @Benchmark
    public boolean atomicLongCas() {
        long v = atomic.get();
        return atomic.compareAndSet(v, v + 1);
    }

    @Benchmark
    public long rawGetAndAdd() {
        return Raw.getAndAddLong(address, 1);
    }

    @Benchmark
    public long atomicLongGetAndAdd() {
        return atomic.getAndAdd(1);
    }
}
