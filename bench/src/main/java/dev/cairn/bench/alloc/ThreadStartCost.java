package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;

/**
 * What a new thread pays for its first allocations, the cost thread churn multiplies (larson hands every slice to a
 * new thread): each round starts a thread that mallocs one block in each of 64 size classes (every one a slow
 * path: a new heap, pages to find, adopt or format), then replaces them 100 times (the fast path), frees them all
 * and ends without releasing its heap, so the next round's thread also reaps it. Prints every fifth round.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.cairn.bench.alloc.ThreadStartCost
 *     [rounds]</pre>
 */
public final class ThreadStartCost {

    private ThreadStartCost() {
    }

    public static void main(String[] args) throws InterruptedException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        long[] sizes = new long[64];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = 8 + i * 15L;
        }
        try (Allocator allocator = Allocator.create()) {
            for (int round = 1; round <= rounds; round++) {
                long[] nanos = new long[2];
                Thread thread = Thread.ofPlatform().start(() -> {
                    long[] blocks = new long[sizes.length];
                    long start = System.nanoTime();
                    for (int i = 0; i < sizes.length; i++) {
                        blocks[i] = allocator.malloc(sizes[i]);
                    }
                    long firsts = System.nanoTime();
                    for (int r = 0; r < 100; r++) {
                        for (int i = 0; i < sizes.length; i++) {
                            allocator.free(blocks[i]);
                            blocks[i] = allocator.malloc(sizes[i]);
                        }
                    }
                    nanos[1] = (System.nanoTime() - firsts) / 100;
                    nanos[0] = firsts - start;
                    for (long block : blocks) {
                        allocator.free(block);
                    }
                });
                long start = System.nanoTime();
                thread.join();
                long total = System.nanoTime() - start;
                if (round % 5 == 0) {
                    System.out.printf("round %d: first 64 mallocs %d us, then 64 free+malloc pairs %.1f us,"
                            + " thread start to join %d us%n", round, nanos[0] / 1000, nanos[1] / 1000.0,
                            total / 1000);
                }
            }
        }
    }
}
