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
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.cairn.bench.alloc.PairLoop
 *     [checked|unchecked] [pairs per round] [rounds]</pre>
 */
public final class PairLoop {

    private PairLoop() {
    }

    public static void main(String[] args) {
        boolean checked = !(args.length > 0 && args[0].equals("unchecked"));
        long pairs = args.length > 1 ? Long.parseLong(args[1]) : 20_000_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        long[] sizes = new long[1024];
        SplittableRandom random = new SplittableRandom(11); // the sizes MallocFreeBenchmark draws
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = 16 + random.nextInt(1024 - 16 + 1);
        }
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            Heap heap = allocator.heap();
            for (int round = 1; round <= rounds; round++) {
                long start = System.nanoTime();
                long sink = loop(heap, sizes, pairs);
                long elapsed = System.nanoTime() - start;
                System.out.printf("round %d: %s %.2f ns per pair (%d)%n", round, checked ? "checked" : "unchecked",
                        elapsed / (double) pairs, sink & 1);
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
}
