package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.Heap;
import java.util.ArrayList;
import java.util.List;

/**
 * What a free+malloc costs a virtual thread, whose calls go through the shared heaps ({@code Allocator.heap()} on a
 * virtual thread), next to the same loop on platform threads, which own their heaps. Each of {@code threads} threads
 * keeps 1,000 live blocks and, again and again, frees a random one and puts a new block of 8-519 bytes in its slot;
 * each round prints the wall time per replacement and thread. With more virtual threads than carriers the threads
 * take turns, so the time per replacement and thread grows with their number even when each call costs the same.
 * A diagnostic behind docs/benchmarks.md's virtual-thread figures, not a JMH benchmark.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.cairn.bench.alloc.VirtualThreadLoop
 *     [checked|unchecked] [virtual|platform] [threads] [replacements per thread and round] [rounds]</pre>
 */
public final class VirtualThreadLoop {

    private static final int SLOTS = 1000;

    private VirtualThreadLoop() {
    }

    public static void main(String[] args) throws InterruptedException {
        boolean checked = !(args.length > 0 && args[0].equals("unchecked"));
        boolean virtual = !(args.length > 1 && args[1].equals("platform"));
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        long steps = args.length > 3 ? Long.parseLong(args[3]) : 5_000_000;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 8;
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            for (int round = 1; round <= rounds; round++) {
                List<Thread> running = new ArrayList<>();
                long start = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    long seed = 12345 + t;
                    Runnable body = () -> replace(allocator.heap(), seed, steps);
                    running.add(virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body));
                }
                for (Thread thread : running) {
                    thread.join();
                }
                long elapsed = System.nanoTime() - start;
                System.out.printf("round %d: %s, %d %s thread(s): %.1f ns per free+malloc and thread%n", round,
                        checked ? "checked" : "unchecked", threads, virtual ? "virtual" : "platform",
                        elapsed / (double) steps);
            }
        }
    }

    private static void replace(Heap heap, long seed, long steps) {
        long[] slots = new long[SLOTS];
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = heap.malloc(64);
        }
        long x = seed;
        for (long i = 0; i < steps; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L; // an LCG: the loop measures the allocator
            int slot = (int) ((x >>> 33) % SLOTS);
            heap.free(slots[slot]);
            slots[slot] = heap.malloc(8 + ((x >>> 20) & 511));
        }
        for (long block : slots) {
            heap.free(block);
        }
    }
}
