package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heap dumps, taken from a virtual thread as the torture test's control thread takes them, racing every way a segment
 * goes back: huge blocks freed (their segments released into the cache and handed out again), arenas closed, heaps
 * released and their segments pooled, blocks left behind and freed by other threads until a pooled segment empties,
 * the pool purging due pages from slow paths (a 1 ms purge delay), and {@code collect()}. A dump pins the segment
 * store, so no segment it lists may leave the store under it (a torture run once met one that had: "segment not
 * live"). Every block's contents are checked before its free; the heap is validated at the end.
 */
class DumpRacingReleasesTest {

    @Test
    void dumpsRaceEveryKindOfSegmentRelease(@TempDir Path dir) throws Exception {
        long seed = System.nanoTime();
        System.out.println("DumpRacingReleasesTest seed=" + seed);
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().purgeDelay(Duration.ofMillis(1))
                .build())) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ConcurrentLinkedQueue<long[]> leftBehind = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; !stop.get(); i++) {
                        allocator.dumpHeap(dir.resolve("heap.cdump"),
                                (i & 3) == 0 ? DumpOptions.withContents() : DumpOptions.DEFAULT);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, new AssertionError("seed " + seed + ": the dumping thread", t));
                }
            }));
            for (int w = 0; w < 2; w++) {
                SplittableRandom random = new SplittableRandom(seed + w);
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        while (!stop.get()) {
                            SplittableRandom round = random.split();
                            Thread.Builder builder = round.nextBoolean() ? Thread.ofVirtual() : Thread.ofPlatform();
                            Thread worker = builder.start(() -> allocateAndLeave(allocator, round, leftBehind));
                            worker.join();
                            for (int i = 0; i < 150; i++) {
                                long[] block = leftBehind.poll();
                                if (block == null) {
                                    break;
                                }
                                Blocks.check(block[0], block[1], block[2]);
                                allocator.free(block[0]); // remote, often into a pooled segment
                            }
                            if (round.nextInt(8) == 0) {
                                allocator.collect(round.nextBoolean());
                            }
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, new AssertionError("seed " + seed + ": a worker", t));
                    }
                }));
            }
            Thread.sleep(3_000);
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(20_000);
                assertFalse(thread.isAlive(), thread + " is stuck");
            }
            assertNull(failure.get());
            for (long[] block; (block = leftBehind.poll()) != null; ) {
                Blocks.check(block[0], block[1], block[2]);
                allocator.free(block[0]);
            }
            allocator.validate();
        }
    }

    /** On a fresh thread: small and huge blocks, an arena, half the blocks freed, the rest left behind. */
    private static void allocateAndLeave(Allocator allocator, SplittableRandom random,
            ConcurrentLinkedQueue<long[]> leftBehind) {
        List<long[]> blocks = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            long size = random.nextInt(16) == 0 ? (1 << 20) + random.nextInt(1 << 20) : 16 + random.nextInt(4000);
            long block = allocator.malloc(size);
            long tag = random.nextLong();
            Blocks.fill(block, Math.min(size, 256), tag);
            blocks.add(new long[] {block, Math.min(size, 256), tag});
        }
        try (Arena arena = allocator.newArena()) {
            for (int i = 0; i < 40; i++) {
                arena.allocate(16 + random.nextInt(70_000), 8);
            }
        }
        for (int i = 0; i < blocks.size(); i += 2) {
            long[] block = blocks.get(i);
            Blocks.check(block[0], block[1], block[2]);
            allocator.free(block[0]);
        }
        for (int i = 1; i < blocks.size(); i += 2) {
            leftBehind.add(blocks.get(i));
        }
        if (random.nextBoolean()) {
            allocator.releaseCurrentThread(); // else it ends holding its heap: reaped later
        }
    }
}
