package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A probe of checked mode's raced double frees (docs/design/allocator.md, section 5): round after round, one platform
 * thread allocates 64 blocks, then it and two other platform threads free all of them at once, in different orders;
 * after each round {@code collect(true)} and {@code validate()} must pass, nothing may be in use and no block may be
 * handed out twice. Before the fifteenth session's fix the owner's free and another thread's free of one block could
 * both pass their checks; both then pushed the block and wrote its one link word, and one of the two lists ran into
 * the other's chain: this probe failed within a few hundred to a few thousand rounds. {@code -Xint} widens the
 * owner's window between its check and its push. Prints the first failing round and exits 1, or "ok".
 *
 * <pre>java -Xint --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar
 *     dev.cairn.bench.alloc.RacedFreeProbe [rounds]</pre>
 */
public final class RacedFreeProbe {

    private static final int BLOCKS = 64;
    private static final int FREERS = 3;

    private RacedFreeProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        long bothPassed = 0;
        try (Allocator allocator = Allocator.create()) {
            for (int round = 0; round < rounds; round++) {
                String failure = round(allocator, random);
                if (failure.startsWith("both passed ")) {
                    bothPassed += Long.parseLong(failure.substring("both passed ".length()));
                } else if (!failure.isEmpty()) {
                    System.out.println("round " + round + " (seed " + seed + "): " + failure);
                    System.exit(1);
                }
            }
        }
        System.out.println("ok: " + rounds + " rounds, " + bothPassed + " blocks whose two frees both returned");
    }

    /** One round: "" or "both passed N" when it ended consistent, else what went wrong. */
    private static String round(Allocator allocator, SplittableRandom random) throws InterruptedException {
        long[] blocks = new long[BLOCKS];
        long[] sizes = new long[BLOCKS];
        for (int i = 0; i < BLOCKS; i++) {
            sizes[i] = 16 + random.nextInt(512);
        }
        AtomicInteger freed = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch allocated = new CountDownLatch(1);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> freers = new ArrayList<>();
        for (int f = 0; f < FREERS; f++) {
            boolean owner = f == 0;
            int stride = f == 1 ? BLOCKS - 1 : 1; // one of them walks backwards
            int offset = random.nextInt(BLOCKS);
            freers.add(Thread.ofPlatform().start(() -> {
                try {
                    if (owner) {
                        for (int i = 0; i < BLOCKS; i++) {
                            blocks[i] = allocator.malloc(sizes[i]);
                        }
                        allocated.countDown();
                    }
                    start.await();
                    for (int n = 0; n < BLOCKS; n++) {
                        try {
                            allocator.free(blocks[(int) ((offset + (long) n * stride) % BLOCKS)]);
                            freed.incrementAndGet();
                        } catch (IllegalArgumentException expected) {
                            refused.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        allocated.await();
        start.countDown(); // the others read blocks[] after this, the owner wrote them before allocated
        for (Thread freer : freers) {
            freer.join();
        }
        if (failure.get() != null) {
            return "a freer failed: " + failure.get();
        }
        if (freed.get() < BLOCKS || freed.get() + refused.get() != FREERS * BLOCKS) {
            return freed.get() + " frees returned, " + refused.get() + " refused";
        }
        try {
            allocator.collect(true);
            allocator.validate();
        } catch (IllegalStateException e) {
            return e.getMessage() + " (" + freed.get() + " frees returned)";
        }
        if (allocator.stats().blocksInUse() != 0) {
            return allocator.stats().blocksInUse() + " blocks in use after every block was freed";
        }
        Set<Long> again = new HashSet<>();
        for (int i = 0; i < BLOCKS; i++) {
            again.add(allocator.malloc(16 + i * 8));
        }
        for (long block : again) {
            allocator.free(block);
        }
        if (again.size() != BLOCKS) {
            return "a block was handed out twice";
        }
        return freed.get() > BLOCKS ? "both passed " + (freed.get() - BLOCKS) : "";
    }
}
