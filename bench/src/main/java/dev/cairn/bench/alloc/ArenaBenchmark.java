package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;
import dev.cairn.bench.support.BenchDefaults;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * An arena's life on one thread, in nanoseconds per allocation: open an arena, allocate 256 segments of 64 bytes
 * (each written once), close it. {@code peer}: Cairn's {@code newArena()} (confined) and {@code newSharedArena()}
 * (every allocation takes the arena heap's lock; the close is the JDK's shared-scope close, a handshake with every
 * thread), and the JDK's {@code Arena.ofConfined()} and {@code Arena.ofShared()} (a {@code malloc} per segment, a
 * {@code free} each at close). What the shared variant costs next to the confined one, and both next to the JDK's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class ArenaBenchmark {

    private static final int SEGMENTS = 256;

    @Param({"cairn-confined", "cairn-shared", "jdk-confined", "jdk-shared"})
    public String peer;

    private Allocator allocator;

    @Setup
    public void setUp() {
        allocator = Allocator.create();
    }

    @TearDown
    public void tearDown() {
        allocator.close();
    }

    @Benchmark
    @OperationsPerInvocation(SEGMENTS)
    public long arenaLife() {
        long sum = 0;
        try (Arena arena = open()) {
            for (int i = 0; i < SEGMENTS; i++) {
                MemorySegment s = arena.allocate(64, 8);
                s.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, i);
                sum += s.address();
            }
        }
        return sum;
    }

    private Arena open() {
        return switch (peer) {
            case "cairn-confined" -> allocator.newArena();
            case "cairn-shared" -> allocator.newSharedArena();
            case "jdk-confined" -> Arena.ofConfined();
            case "jdk-shared" -> Arena.ofShared();
            default -> throw new IllegalArgumentException("unknown peer " + peer);
        };
    }
}
