package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * mimalloc's test-stress.c, on Cairn's public API: threads allocate random sizes (mostly small, some large, a few
 * huge), keep a random subset live, swap blocks through a shared array so that most frees happen on another thread
 * than the malloc, end without releasing their heaps and are replaced by new threads, while a monitoring thread
 * takes stats and walks the heap. Every block carries its size
 * and a pattern derived from its address, checked before it is freed. The heap is validated at the end and must be
 * empty. Each run prints its seed.
 */
class MimallocStressTest {

    private static final long MAGIC = 0x5EED_0F_C0FFEEL;

    @ParameterizedTest(name = "threads={0} rounds={1} virtual={2} seed={3} config={4}")
    @CsvSource({
            "4, 6, false, 1, checked",
            "8, 4, false, 20241126, checked",
            "2, 10, false, 77, checked",
            "6, 5, true, 5, checked",
            "8, 4, true, 99, checked",
            "4, 4, false, 3, unchecked",
            "4, 3, false, 12, small-segments-fill-no-purge-delay",
            "4, 3, true, 13, large-segments-unchecked-fill-limit",
    })
    void stress(int threads, int rounds, boolean virtual, long seed, String configName) throws Exception {
        System.out.println("MimallocStressTest seed=" + seed + " threads=" + threads + " rounds=" + rounds
                + " virtual=" + virtual + " config=" + configName);
        AllocatorConfig config = config(configName);
        boolean checked = config.checked();
        try (Allocator allocator = Allocator.create(config)) {
            AtomicLongArray transfer = new AtomicLongArray(1000);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ConcurrentHashMap<Long, Boolean> leftBehind = new ConcurrentHashMap<>();
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread monitor = Thread.ofPlatform().start(() -> { // a monitoring thread: walks run beside everything
                try {
                    while (!done.get()) {
                        MimallocApiTest.assertValidJson(allocator.stats().toJson());
                        long[] visited = {0};
                        allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
                            if (usable < 16 || (address & 15) != 0) {
                                throw new AssertionError("walk: block 0x" + Long.toHexString(address) + " of "
                                        + usable);
                            }
                            return ++visited[0] < 20_000;
                        });
                        Thread.sleep(1);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, new AssertionError("seed " + seed + " monitor: " + e, e));
                }
            });
            for (int round = 0; round < rounds && failure.get() == null; round++) {
                List<Thread> started = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long threadSeed = seed * 1_000_003L + round * 131L + t;
                    Runnable body = () -> {
                        try {
                            work(allocator, transfer, new SplittableRandom(threadSeed), leftBehind);
                        } catch (Throwable e) {
                            failure.compareAndSet(null, new AssertionError("seed " + seed + " thread seed "
                                    + threadSeed + ": " + e, e));
                        }
                    };
                    Thread thread = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
                    started.add(thread);
                }
                for (Thread thread : started) {
                    thread.join();
                }
            }
            done.set(true);
            monitor.join();
            if (failure.get() != null) {
                throw new AssertionError(failure.get().getMessage(), failure.get());
            }
            // What the threads left behind is freed here: all of it on another thread than its malloc.
            for (int i = 0; i < transfer.length(); i++) {
                freeChecked(allocator, transfer.getAndSet(i, 0));
            }
            for (long p : leftBehind.keySet()) {
                freeChecked(allocator, p);
            }
            allocator.collect(true);
            if (checked) {
                allocator.validate();
            }
            AllocatorStats stats = allocator.stats();
            assertEquals(0, stats.blocksInUse(), "seed " + seed + ": " + stats.toJson());
            int[] visited = {0};
            allocator.visitBlocks((address, usable, sizeClass, heapId) -> ++visited[0] > 0);
            assertEquals(0, visited[0], "seed " + seed);
            assertTrue(stats.remoteFrees() > 0, "seed " + seed);
        }
    }

    /**
     * One thread's life: test-stress.c's stress() loop, plus realloc, calloc, aligned blocks, an arena (closed, or
     * left open for the reaper), collections and heap releases in the middle.
     */
    /** The stress under the settings users change: segment size, checked mode, purge delay, fill, commit limit. */
    private static AllocatorConfig config(String name) {
        return switch (name) {
            case "checked" -> AllocatorConfig.defaults();
            case "unchecked" -> AllocatorConfig.builder().checked(false).build();
            case "small-segments-fill-no-purge-delay" -> AllocatorConfig.builder().segmentSize(4L << 20)
                    .freeFill(0xDB).purgeDelay(java.time.Duration.ZERO).build();
            case "large-segments-unchecked-fill-limit" -> AllocatorConfig.builder().segmentSize(256L << 20)
                    .checked(false).freeFill(0).commitLimit(8L << 30)
                    .hugePages(dev.cairn.segments.SegmentConfig.HugePages.TRANSPARENT).build();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static void work(Allocator allocator, AtomicLongArray transfer, SplittableRandom random,
            ConcurrentHashMap<Long, Boolean> leftBehind) {
        long[] data = new long[random.nextInt(50, 400)];
        int iterations = random.nextInt(2000, 6000);
        Arena arena = random.nextInt(3) == 0 ? allocator.newArena() : null;
        List<MemorySegment> arenaBlocks = new ArrayList<>();
        for (int i = 0; i < iterations; i++) {
            int op = random.nextInt(1000);
            int slot = random.nextInt(data.length);
            if (op < 3) {
                allocator.collect(op == 0); // chores from any thread, in the middle of everything
            } else if (op < 4) {
                allocator.releaseCurrentThread(); // gives the heap up; the next call gets a new one
            } else if (op < 20 && arena != null) {
                MemorySegment segment = arena.allocate(size(random), 1L << random.nextInt(8));
                write(segment.address(), segment.byteSize());
                arenaBlocks.add(segment);
                if (random.nextInt(4) == 0) {
                    MemorySegment victim = arenaBlocks.remove(random.nextInt(arenaBlocks.size()));
                    verify(victim.address());
                    allocator.free(victim);
                }
            } else if (op < 500) {
                freeChecked(allocator, data[slot]);
                data[slot] = allocate(allocator, random);
            } else if (op < 600) {
                if (data[slot] != 0) {
                    data[slot] = reallocChecked(allocator, data[slot], size(random));
                }
            } else if (op < 850) {
                // swap one of ours into the shared array; what comes out is now ours (usually another thread's)
                int index = random.nextInt(transfer.length());
                long mine = data[slot] != 0 ? data[slot] : allocate(allocator, random);
                data[slot] = transfer.getAndSet(index, mine);
            } else {
                freeChecked(allocator, data[slot]);
                data[slot] = 0;
            }
        }
        for (MemorySegment segment : arenaBlocks) {
            verify(segment.address());
        }
        if (arena != null && random.nextBoolean()) {
            arena.close(); // else the thread ends with it open, and it is destroyed when found
        }
        int end = random.nextInt(4);
        if (end == 0) {
            for (long p : data) {
                freeChecked(allocator, p); // a tidy thread
            }
        } else {
            for (long p : data) { // a thread that ends holding blocks: the main thread frees them later
                if (p != 0) {
                    leftBehind.put(p, Boolean.TRUE);
                }
            }
            if (end == 1) {
                allocator.releaseCurrentThread();
            }
            // end == 2, 3: the thread just ends, and its heap is found dead later
        }
    }

    private static long size(SplittableRandom random) {
        int r = random.nextInt(1000);
        if (r == 0) {
            return random.nextLong(512 << 10, 6 << 20); // huge, rarely
        }
        if (r < 20) {
            return random.nextLong(8 << 10, 512 << 10); // medium and large
        }
        if (r < 100) {
            return random.nextLong(1024, 8 << 10);
        }
        return random.nextLong(8, 1024);
    }

    private static long allocate(Allocator allocator, SplittableRandom random) {
        long size = size(random);
        int how = random.nextInt(20);
        long p;
        if (how == 0) {
            p = allocator.calloc(1, size);
            MemorySegment block = Blocks.view(p, size);
            for (long i = 0; i + 8 <= Math.min(size, 4096); i += 8) {
                if (block.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != 0) {
                    throw new AssertionError("calloc(1, " + size + ") = 0x" + Long.toHexString(p)
                            + " is not zeroed at " + i);
                }
            }
        } else if (how == 1) {
            long alignment = 1L << random.nextInt(4, 14);
            p = allocator.mallocAligned(size, alignment);
            if (p % alignment != 0) {
                throw new AssertionError("mallocAligned(" + size + ", " + alignment + ") = 0x" + Long.toHexString(p));
            }
        } else if (how == 2) {
            p = allocator.heap().malloc(size);
        } else {
            p = allocator.malloc(size);
        }
        write(p, size);
        return p;
    }

    private static long reallocChecked(Allocator allocator, long p, long newSize) {
        long oldSize = verify(p);
        long q = allocator.realloc(p, newSize);
        // the contents up to the smaller size came along; rewrite for the new address and size
        long kept = Math.min(oldSize, newSize);
        MemorySegment block = Blocks.view(q, kept);
        for (long i = 8; i + 8 <= Math.min(kept, 256); i += 8) {
            if (block.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != MimallocApiTest.pattern(p, i >>> 3)) {
                throw new AssertionError("realloc(0x" + Long.toHexString(p) + ", " + newSize + ") = 0x"
                        + Long.toHexString(q) + " lost word " + (i >>> 3));
            }
        }
        write(q, newSize);
        return q;
    }

    /** Size in the first word, then the pattern over the first 256 bytes and the last 64. */
    private static void write(long p, long size) {
        MemorySegment block = Blocks.view(p, Math.max(size, 16));
        block.set(ValueLayout.JAVA_LONG, 0, size ^ MAGIC);
        for (long i = 8; i + 8 <= size && i < 256; i += 8) {
            block.set(ValueLayout.JAVA_LONG_UNALIGNED, i, MimallocApiTest.pattern(p, i >>> 3));
        }
        for (long i = Math.max(256, (size - 64) & ~7L); i + 8 <= size; i += 8) {
            block.set(ValueLayout.JAVA_LONG_UNALIGNED, i, MimallocApiTest.pattern(p, i >>> 3));
        }
    }

    /** Checks the block's contents; returns its size. */
    private static long verify(long p) {
        long size = Blocks.view(p, 8).get(ValueLayout.JAVA_LONG, 0) ^ MAGIC;
        if (size < 0 || size > (64L << 20)) {
            throw new AssertionError("block 0x" + Long.toHexString(p) + ": size word overwritten");
        }
        MemorySegment block = Blocks.view(p, Math.max(size, 16));
        for (long i = 8; i + 8 <= size && i < 256; i += 8) {
            if (block.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != MimallocApiTest.pattern(p, i >>> 3)) {
                throw new AssertionError("block 0x" + Long.toHexString(p) + " of " + size + ": word " + (i >>> 3)
                        + " overwritten");
            }
        }
        for (long i = Math.max(256, (size - 64) & ~7L); i + 8 <= size; i += 8) {
            if (block.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != MimallocApiTest.pattern(p, i >>> 3)) {
                throw new AssertionError("block 0x" + Long.toHexString(p) + " of " + size + ": word " + (i >>> 3)
                        + " overwritten");
            }
        }
        return size;
    }

    private static void freeChecked(Allocator allocator, long p) {
        if (p != 0) {
            long size = verify(p);
            if (allocator.config().checked() && allocator.usableSize(p) < size) {
                throw new AssertionError("usableSize(0x" + Long.toHexString(p) + ") < " + size);
            }
            allocator.free(p);
        }
    }
}
