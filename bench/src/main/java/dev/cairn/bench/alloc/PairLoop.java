package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.Heap;
import java.util.SplittableRandom;

/**
 * The malloc+free pair of {@link MallocFreeBenchmark} as a plain Java loop, outside JMH: what the pair costs when
 * the caller's compilation unit leaves C2 room to inline the whole fast path (see docs/benchmarks.md, "C2's
 * inlining budget"). A diagnostic next to the JMH figures, not a replacement for them; run it under {@code perf}
 * with {@code -XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,dev.cairn.bench.alloc.PairLoop::loop} to map
 * samples onto the compiled code.
 *
 * <p>The fourth argument picks the free: {@code heap} ({@code Heap.free}, the default), {@code allocator}
 * ({@code Allocator.free}) or {@code delayed} ({@code Allocator.freeDelayed}, the loop of
 * {@link FreeDelayedBenchmark}); with it the sizes are 64 bytes, as there. Each round prints the wall time and the
 * thread's CPU time per pair: on a shared machine the CPU time moves less with the other load.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.cairn.bench.alloc.PairLoop
 *     [checked|unchecked] [pairs per round] [rounds] [heap|allocator|delayed]</pre>
 */
public final class PairLoop {

    private PairLoop() {
    }

    public static void main(String[] args) {
        boolean checked = !(args.length > 0 && args[0].equals("unchecked"));
        long pairs = args.length > 1 ? Long.parseLong(args[1]) : 20_000_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        String free = args.length > 3 ? args[3] : null;
        long[] sizes = new long[1024];
        SplittableRandom random = new SplittableRandom(11); // the sizes MallocFreeBenchmark draws
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = free == null ? 16 + random.nextInt(1024 - 16 + 1) : 64;
        }
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            Heap heap = allocator.heap();
            for (int round = 1; round <= rounds; round++) {
                long start = System.nanoTime();
                long cpuStart = cpu.getCurrentThreadCpuTime();
                long sink = switch (free == null ? "heap" : free) {
                    case "heap" -> loop(heap, sizes, pairs);
                    case "allocator" -> loopAllocatorFree(allocator, heap, sizes, pairs);
                    case "delayed" -> loopFreeDelayed(allocator, heap, sizes, pairs);
                    default -> throw new IllegalArgumentException("free: heap, allocator or delayed, not " + free);
                };
                long cpuTime = cpu.getCurrentThreadCpuTime() - cpuStart;
                long elapsed = System.nanoTime() - start;
                System.out.printf("round %d: %s %s %.2f ns per pair, cpu %.2f (%d)%n", round,
                        checked ? "checked" : "unchecked", free == null ? "heap" : free, elapsed / (double) pairs,
                        cpuTime / (double) pairs, sink & 1);
            }
        }
    }

    private static long loop(Heap heap, long[] sizes, long pairs) {
        long sink = 0;
        for (long i = 0; i < pairs; i++) {
            long block = heap.malloc(sizes[(int) i & 1023]);
            sink += block;
            heap.free(block);
        }
        return sink;
    }

    private static long loopAllocatorFree(Allocator allocator, Heap heap, long[] sizes, long pairs) {
        long sink = 0;
        for (long i = 0; i < pairs; i++) {
            long block = heap.malloc(sizes[(int) i & 1023]);
            sink += block;
            allocator.free(block);
        }
        return sink;
    }

    private static long loopFreeDelayed(Allocator allocator, Heap heap, long[] sizes, long pairs) {
        long sink = 0;
        for (long i = 0; i < pairs; i++) {
            long block = heap.malloc(sizes[(int) i & 1023]);
            sink += block;
            allocator.freeDelayed(block);
        }
        return sink;
    }
}
