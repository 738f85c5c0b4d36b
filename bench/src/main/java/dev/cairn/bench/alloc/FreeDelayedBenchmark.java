package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.Heap;
import dev.cairn.bench.support.BenchDefaults;
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
 * What a delayed free costs next to a plain one, amortised, in nanoseconds per malloc + free pair of 64 bytes on
 * one thread (issue target: {@code freeDelayed} within 2x of {@code free}).
 *
 * <p>{@code free}: malloc then {@code Heap.free} (no thread-local lookup on the free). {@code allocatorFree}: malloc
 * then {@code Allocator.free}, which finds the thread's heap as {@code Allocator.freeDelayed} must: the like-for-like
 * baseline. {@code freeDelayed}: malloc then {@code Allocator.freeDelayed}; {@code heapFreeDelayed}: malloc then
 * {@code Heap.freeDelayed} on the held heap (no lookup of the heap that keeps the batch). The block is queued on the
 * thread's QSBR handle and really freed when the queue is processed (every 256 items, once the goal is reached),
 * so the malloc side also pays for blocks that are not reused at once. {@code readers} online reader threads
 * (0 or 1) report a quiescent point in a loop, as a lock-free reader would between reads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class FreeDelayedBenchmark {

    @Param({"true", "false"})
    public boolean checked;

    @Param({"0", "1"})
    public int readers;

    private Allocator allocator;
    private Thread reader;
    private volatile boolean stop;

    @Setup
    public void setUp() throws InterruptedException {
        allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build());
        if (readers > 0) {
            java.util.concurrent.CountDownLatch online = new java.util.concurrent.CountDownLatch(1);
            reader = Thread.ofPlatform().daemon().start(() -> {
                var me = allocator.qsbrThread();
                online.countDown();
                while (!stop) {
                    me.quiescent();
                    Thread.onSpinWait();
                }
                allocator.releaseCurrentThread();
            });
            online.await();
        }
    }

    @TearDown
    public void tearDown() throws InterruptedException {
        stop = true;
        if (reader != null) {
            reader.join();
        }
        allocator.close();
    }

    /** Per benchmark thread: its heap (the allocator's thread-local lookup is not what is measured here). */
    @State(Scope.Thread)
    public static class Local {
        Heap heap;

        @Setup
        public void setUp(FreeDelayedBenchmark shared) {
            heap = shared.allocator.heap();
        }
    }

    @Benchmark
    public long free(Local local) {
        long p = local.heap.malloc(64);
        local.heap.free(p);
        return p;
    }

    @Benchmark
    public long allocatorFree(Local local) {
        long p = local.heap.malloc(64);
        allocator.free(p);
        return p;
    }

    @Benchmark
    public long freeDelayed(Local local) {
        long p = local.heap.malloc(64);
        allocator.freeDelayed(p);
        return p;
    }

    @Benchmark
    public long heapFreeDelayed(Local local) {
        long p = local.heap.malloc(64);
        local.heap.freeDelayed(p);
        return p;
    }
}
