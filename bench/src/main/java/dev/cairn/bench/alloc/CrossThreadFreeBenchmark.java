package dev.cairn.bench.alloc;

import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.bench.support.MallocPeer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
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
 * Two threads freeing each other's blocks: each allocates a block (64 to 1024 bytes), hands it to the other
 * through a single-producer single-consumer ring, and frees what the other handed it. Nearly every free is a
 * cross-thread free. Score: ns per operation of one thread (one malloc plus, in steady state, one remote free).
 */
@State(Scope.Group)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class CrossThreadFreeBenchmark {

    private static final int RING = 1024;

    @Param({"cairn-checked", "cairn-unchecked", "glibc", "glibc-plain"})
    public String peer;

    private MallocPeer allocator;
    private Ring leftToRight;
    private Ring rightToLeft;

    /** SPSC ring of addresses; 0 is an empty slot. */
    static final class Ring {
        private final AtomicLongArray slots = new AtomicLongArray(RING);
        private int head;
        private int tail;

        boolean offer(long address) {
            int index = tail & (RING - 1);
            if (slots.getAcquire(index) != 0) {
                return false;
            }
            slots.setRelease(index, address);
            tail++;
            return true;
        }

        long poll() {
            int index = head & (RING - 1);
            long address = slots.getAcquire(index);
            if (address != 0) {
                slots.setRelease(index, 0);
                head++;
            }
            return address;
        }
    }

    @Setup(Level.Iteration)
    public void setUp() {
        if (allocator == null) {
            allocator = MallocPeer.create(peer);
        }
        leftToRight = new Ring();
        rightToLeft = new Ring();
    }

    @TearDown(Level.Iteration)
    public void drain() {
        for (Ring ring : new Ring[] {leftToRight, rightToLeft}) {
            for (int i = 0; i < RING; i++) {
                long address = ring.slots.get(i);
                if (address != 0) {
                    allocator.free(address);
                }
            }
        }
    }

    @TearDown
    public void tearDown() {
        allocator.close();
    }

    private long step(Ring out, Ring in, long size) {
        long p = allocator.malloc(size);
        if (!out.offer(p)) {
            allocator.free(p);
        }
        long q = in.poll();
        if (q != 0) {
            allocator.free(q);
        }
        return p;
    }

    @Benchmark
    @Group("pingPong")
    @GroupThreads(1)
    public long left(ThreadSize size) {
        return step(leftToRight, rightToLeft, size.next());
    }

    @Benchmark
    @Group("pingPong")
    @GroupThreads(1)
    public long right(ThreadSize size) {
        return step(rightToLeft, leftToRight, size.next());
    }

    /** Per-thread size sequence: 64 to 1024 bytes. */
    @State(Scope.Thread)
    public static class ThreadSize {
        private int counter;

        long next() {
            counter++;
            return 64 + ((counter * 0x9E3779B1L) >>> 22 & 960);
        }
    }
}
