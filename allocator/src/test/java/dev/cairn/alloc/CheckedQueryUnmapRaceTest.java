package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@code isLive} is safe for any address, and the checked proofs of {@code usableSize}, {@code freeDelayed} and
 * {@code free} refuse any bad one: also an address whose segment another thread is giving back at that moment. Huge segments, normal ones
 * released while the segment cache is full, and the cache's trim are unmapped at once; a query that had looked the
 * address up just before read the unmapped header and crashed the JVM (SIGSEGV in {@code AllocatorImpl.blockPage},
 * found by the test-stress port; a crash fails this test's fork within a second or two). A checked free of another
 * thread's segment did the same until it became a check in flight too.
 */
class CheckedQueryUnmapRaceTest {

    @Test
    void queriesOfAddressesWhoseSegmentsAreBeingUnmappedDoNotFault() throws InterruptedException {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(4L << 20).build())) {
            AtomicLongArray published = new AtomicLongArray(64);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            // Huge blocks: each free unmaps its segment.
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; !stop.get(); i++) {
                    long p = allocator.malloc(600 << 10);
                    published.set(i & 7, p);
                    allocator.free(p);
                }
            }));
            // 400 KiB blocks, one 4 MiB segment per 9 of them: 48 blocks fill more segments than the cache keeps.
            threads.add(Thread.ofPlatform().start(() -> {
                long[] blocks = new long[48];
                while (!stop.get()) {
                    for (int i = 0; i < blocks.length; i++) {
                        blocks[i] = allocator.malloc(400 << 10);
                        published.set(8 + i, blocks[i]);
                    }
                    for (long block : blocks) {
                        allocator.free(block);
                    }
                    if (blocks[0] % 3 == 0) {
                        allocator.collect(false); // trims the cache: unmaps what it holds
                    }
                }
            }));
            long[] answers = new long[4];
            // Frees of interior pointers (never a block start of these sizes): refused every time, after a proof
            // that reads the header and a page descriptor of a segment another thread may be unmapping.
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; !stop.get(); i++) {
                        long p = published.get(i % published.length());
                        try {
                            allocator.free(p + 16);
                            throw new AssertionError("free of interior pointer 0x" + Long.toHexString(p + 16));
                        } catch (IllegalArgumentException refused) {
                            answers[3]++;
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
            for (int r = 0; r < 2; r++) {
                int reader = r;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; !stop.get(); i++) {
                            long p = published.get(i % published.length());
                            if (reader == 0 || (i & 1) == 0) {
                                answers[allocator.isLive(p) ? 0 : 1]++;
                            } else {
                                try {
                                    allocator.usableSize(p);
                                } catch (IllegalArgumentException refused) {
                                    answers[2]++;
                                }
                            }
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            Thread.sleep(2_500);
            stop.set(true);
            for (Thread thread : threads) {
                thread.join();
            }
            System.out.printf("isLive true %d, false %d; usableSize refused %d; free refused %d%n", answers[0],
                    answers[1], answers[2], answers[3]);
            assertNull(failure.get());
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }
}
