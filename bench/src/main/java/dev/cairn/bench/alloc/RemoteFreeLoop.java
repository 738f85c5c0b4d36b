package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;

/**
 * What a free of another thread's block costs, alone: each round a short-lived thread allocates 2^20 blocks of
 * 16-520 bytes and ends, then the main thread frees them all (every free remote, into segments whose owner is gone),
 * timed. No second thread runs while the frees are timed, so the figure is the remote free path itself (its proof,
 * the check in flight, the remote bit, the push), cache misses included, without contention. A diagnostic next to
 * {@link CrossThreadFreeBenchmark} and the {@code xmalloc} workload; prints the last rounds.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.cairn.bench.alloc.RemoteFreeLoop
 *     [checked|unchecked] [rounds]</pre>
 */
public final class RemoteFreeLoop {

    private static final int BLOCKS = 1 << 20;

    private RemoteFreeLoop() {
    }

    public static void main(String[] args) throws InterruptedException {
        boolean checked = !(args.length > 0 && args[0].equals("unchecked"));
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        long[] blocks = new long[BLOCKS];
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            for (int round = 0; round < rounds; round++) {
                Thread owner = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < BLOCKS; i++) {
                        blocks[i] = allocator.malloc(16 + (i & 63) * 8);
                    }
                });
                owner.join();
                long start = System.nanoTime();
                for (int i = 0; i < BLOCKS; i++) {
                    allocator.free(blocks[i]);
                }
                long elapsed = System.nanoTime() - start;
                if (round >= rounds - 10) {
                    System.out.printf("round %d: %.2f ns per remote free%n", round, elapsed / (double) BLOCKS);
                }
                allocator.collect(true);
            }
        }
    }
}
