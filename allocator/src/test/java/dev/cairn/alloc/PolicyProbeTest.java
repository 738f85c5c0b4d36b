package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.SegmentConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Probes of the queue policy (a free into a full page queued behind the current page, RETAIN), page carving in
 * doublings, reaping of ended threads' heaps from any malloc slow path, and huge calloc of memory known to read as
 * zeros: random workloads through the public API with {@code validate()} and a check of every live block's contents.
 */
class PolicyProbeTest {

    @TempDir
    Path tmp;

    // ---------------------------------------------------------------------------------------- block model

    /** A live block: its usable size is filled with a byte derived from its id, its first long is the id. */
    record Live(long address, long size, long id) {
    }

    @SuppressWarnings("restricted")
    static MemorySegment view(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    static byte pattern(long id) {
        return (byte) (id * 0x9E3779B97F4A7C15L >>> 56 | 1);
    }

    static void fill(long address, long size, long id) {
        MemorySegment s = view(address, size);
        s.fill(pattern(id));
        if (size >= 8) {
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, id);
        }
    }

    static void check(long address, long size, long id) {
        MemorySegment s = view(address, size);
        byte b = pattern(id);
        long start = 0;
        if (size >= 8) {
            long head = s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            if (head != id) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + " (" + size + " B, id " + id
                        + "): head is " + head);
            }
            start = 8;
        }
        long word = (b & 0xFFL) * 0x0101010101010101L;
        long i = start;
        for (; i + 8 <= size; i += 8) {
            if (s.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != word) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + " (" + size + " B, id " + id
                        + "): corrupt near byte " + i);
            }
        }
        for (; i < size; i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != b) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + ": corrupt at byte " + i);
            }
        }
    }

    static void checkPrefix(long address, long size, long id, long prefix) {
        MemorySegment s = view(address, size);
        byte b = pattern(id);
        if (prefix >= 8) {
            assertEquals(id, s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), "realloc kept the head");
        }
        for (long i = 8; i < prefix; i += 61) {
            assertEquals(b, s.get(ValueLayout.JAVA_BYTE, i), "realloc kept byte " + i);
        }
        if (prefix > 8) {
            assertEquals(b, s.get(ValueLayout.JAVA_BYTE, prefix - 1));
        }
    }

    /** Sizes over every class: tiny, small, medium and large, and sizes near page capacities. */
    static long randomSize(SplittableRandom r) {
        return switch (r.nextInt(10)) {
            case 0, 1, 2 -> r.nextInt(129);
            case 3, 4 -> 128 + r.nextInt(1024);
            case 5 -> 1024 + r.nextInt(7 * 1024);
            case 6 -> 8 * 1024 + r.nextInt(56 * 1024);
            case 7 -> 64 * 1024 + r.nextInt(448 * 1024);
            case 8 -> { // a size whose class packs pages exactly or nearly so
                long[] near = {64 * 1024 / 3, 64 * 1024 / 2, 64 * 1024, 512 * 1024 / 3, 512 * 1024 / 2, 512 * 1024,
                        8 * 1024, 16 * 1024, 32 * 1024, 4 * 1024 * 1024 / 7, 4096, 2048};
                yield Math.max(0, near[r.nextInt(near.length)] + r.nextInt(33) - 16);
            }
            default -> 16 + r.nextInt(48);
        };
    }

    // ---------------------------------------------------------------------------------------- queue policy

    static AllocatorConfig variant(int variant, SplittableRandom r) {
        AllocatorConfig.Builder b = AllocatorConfig.builder().purgeDelay(java.time.Duration.ofMillis(r.nextInt(3)));
        return switch (variant) {
            case 0 -> b.checked(true).build();
            case 1 -> b.checked(false).build();
            case 2 -> b.checked(true).segmentSize(4L << 20).freeFill(0xEE).build();
            case 3 -> b.checked(false).segmentSize(4L << 20).sampling(true).sampleRate(3).build();
            default -> b.checked(true).freeFill(0).purgeDelay(java.time.Duration.ZERO).build();
        };
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void randomWorkloadKeepsQueuesAndContents(int variant) throws Exception {
        long seed = System.nanoTime();
        System.out.println("randomWorkloadKeepsQueuesAndContents seed " + seed + " variant " + variant);
        SplittableRandom r = new SplittableRandom(seed);
        try (Allocator allocator = Allocator.create(variant(variant, r))) {
            List<Live> live = new ArrayList<>();
            long nextId = 1;
            for (int step = 0; step < 20_000; step++) {
                int op = r.nextInt(100);
                if (op < 45 || live.isEmpty()) {
                    long size = randomSize(r);
                    int how = r.nextInt(16);
                    long a = how == 0 ? allocator.calloc(1, size)
                            : how == 1 ? allocator.mallocAligned(size, 1L << (4 + r.nextInt(10)))
                            : allocator.malloc(size);
                    if (how == 0) {
                        assertZeroPrefix(a, size);
                    }
                    long usable = allocator.usableSize(a);
                    assertTrue(usable >= size);
                    long id = nextId++;
                    fill(a, usable, id);
                    live.add(new Live(a, usable, id));
                } else if (op < 85) {
                    int i = r.nextInt(live.size());
                    Live b = live.get(i);
                    check(b.address, b.size, b.id);
                    allocator.free(b.address);
                    live.set(i, live.get(live.size() - 1));
                    live.remove(live.size() - 1);
                } else if (op < 97) {
                    int i = r.nextInt(live.size());
                    Live b = live.get(i);
                    long size = randomSize(r);
                    long a = allocator.realloc(b.address, size);
                    long usable = allocator.usableSize(a);
                    checkPrefix(a, usable, b.id, Math.min(size, b.size));
                    long id = nextId++;
                    fill(a, usable, id);
                    live.set(i, new Live(a, usable, id));
                } else if (op < 98) {
                    allocator.collect(r.nextBoolean());
                } else if (op < 99) {
                    // free a run of blocks of one class: pages empty while queued behind the current page
                    int i = r.nextInt(live.size());
                    long cls = live.get(i).size;
                    for (int j = live.size() - 1; j >= 0; j--) {
                        Live b = live.get(j);
                        if (b.size == cls && r.nextInt(3) != 0) {
                            check(b.address, b.size, b.id);
                            allocator.free(b.address);
                            live.set(j, live.get(live.size() - 1));
                            live.remove(live.size() - 1);
                        }
                    }
                } else if (step % 7 == 0) {
                    Path dump = tmp.resolve("d" + step + ".cdump");
                    allocator.dumpHeap(dump, r.nextBoolean() ? DumpOptions.withContents() : DumpOptions.DEFAULT);
                    Files.delete(dump);
                }
                if (step % 997 == 0) {
                    allocator.validate();
                    for (Live b : live) {
                        check(b.address, b.size, b.id);
                    }
                    assertEquals(live.size(), allocator.stats().blocksInUse(), "blocks in use");
                }
            }
            allocator.validate();
            for (Live b : live) {
                check(b.address, b.size, b.id);
                allocator.free(b.address);
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    /** Short random runs with validate() after every operation, heap releases and delayed frees mixed in. */
    @Test
    void validateAfterEveryOperation() throws Exception {
        long seed0 = System.nanoTime();
        System.out.println("validateAfterEveryOperation seed " + seed0);
        for (int run = 0; run < 6; run++) {
            long seed = seed0 + run;
            SplittableRandom r = new SplittableRandom(seed);
            try (Allocator allocator = Allocator.create(variant(run % 5, r))) {
                List<Live> live = new ArrayList<>();
                long id = 1;
                int bin = r.nextInt(4);
                for (int step = 0; step < 2_500; step++) {
                    int op = r.nextInt(100);
                    // a few sizes per run so that pages fill, go full and come back often
                    long size = switch (bin) {
                        case 0 -> 16 + r.nextInt(3) * 16;
                        case 1 -> 1024 * (1 + r.nextInt(3));
                        case 2 -> 20_000 + r.nextInt(3) * 10_000;
                        default -> 150_000 + r.nextInt(3) * 100_000;
                    };
                    if (op < 50 || live.isEmpty()) {
                        long a = allocator.malloc(size);
                        long u = allocator.usableSize(a);
                        fill(a, u, id);
                        live.add(new Live(a, u, id++));
                    } else if (op < 90) {
                        Live b = live.remove(r.nextInt(live.size()));
                        check(b.address, b.size, b.id);
                        allocator.free(b.address);
                    } else if (op < 94) {
                        Live b = live.remove(r.nextInt(live.size()));
                        check(b.address, b.size, b.id);
                        allocator.freeDelayed(b.address);
                    } else if (op < 96) {
                        allocator.collect(r.nextBoolean());
                    } else if (op < 97) {
                        allocator.heap().release(); // its segments go to the pool; the next heap adopts them
                    } else if (op < 98) {
                        bin = r.nextInt(4);
                    } else {
                        // free a whole class: pages behind the current page empty
                        for (int j = live.size() - 1; j >= 0; j--) {
                            if (r.nextInt(4) != 0) {
                                Live b = live.get(j);
                                check(b.address, b.size, b.id);
                                allocator.free(b.address);
                                live.remove(j);
                            }
                        }
                    }
                    allocator.validate();
                }
                for (Live b : live) {
                    check(b.address, b.size, b.id);
                    allocator.free(b.address);
                }
                allocator.collect(true);
                allocator.validate();
            }
        }
    }

    /**
     * One class filled to many full pages, then frees scattered over full pages (each queued behind the current
     * page), then mallocs that drain the queue, then everything freed and refilled: retained pages fill, go full,
     * come back.
     */
    @Test
    void fullPagesComeBackBehindTheCurrentPageAndRetainedPagesRefill() {
        long seed = System.nanoTime();
        System.out.println("fullPagesComeBack seed " + seed);
        SplittableRandom r = new SplittableRandom(seed);
        long[] sizes = {16, 48, 112, 1000, 4096, 9000, 30000, 65536, 100_000, 200_000, 512 * 1024};
        try (Allocator allocator = Allocator.create()) {
            long id = 1;
            for (long size : sizes) {
                int count = (int) Math.max(8, Math.min(20_000, (8L << 20) / size));
                for (int round = 0; round < 4; round++) {
                    List<Live> live = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        long a = allocator.malloc(size);
                        long u = allocator.usableSize(a);
                        fill(a, u, id);
                        live.add(new Live(a, u, id++));
                    }
                    allocator.validate();
                    for (int i = live.size() - 1; i >= 0; i--) { // scattered frees into full pages
                        if (r.nextInt(4) == 0) {
                            Live b = live.get(i);
                            check(b.address, b.size, b.id);
                            allocator.free(b.address);
                            live.remove(i);
                        }
                    }
                    allocator.validate();
                    for (int i = 0; i < count / 8; i++) {
                        long a = allocator.malloc(size);
                        long u = allocator.usableSize(a);
                        fill(a, u, id);
                        live.add(new Live(a, u, id++));
                    }
                    allocator.validate();
                    if (round % 2 == 1) {
                        allocator.collect(round == 3);
                        allocator.validate();
                    }
                    // free all but one block: the last page is retained, then refills
                    for (int i = 1; i < live.size(); i++) {
                        Live b = live.get(i);
                        check(b.address, b.size, b.id);
                        allocator.free(b.address);
                    }
                    allocator.validate();
                    Live keep = live.get(0);
                    check(keep.address, keep.size, keep.id);
                    allocator.free(keep.address);
                    allocator.validate();
                    assertEquals(0, allocator.stats().blocksInUse());
                }
            }
        }
    }

    /**
     * Cross-thread frees into full pages and pages queued behind the current page; validate between phases, while
     * the freeing thread (a new one each phase: the last one's heap is reaped meanwhile) is quiet.
     */
    @Test
    void crossThreadFreesIntoFullAndQueuedPages() throws Exception {
        long seed = System.nanoTime();
        System.out.println("crossThreadFrees seed " + seed);
        try (Allocator allocator = Allocator.create()) {
            SplittableRandom r = new SplittableRandom(seed);
            List<Live> live = new ArrayList<>();
            long id = 1;
            for (int phase = 0; phase < 16; phase++) {
                ConcurrentLinkedQueue<Live> handoff = new ConcurrentLinkedQueue<>();
                AtomicBoolean done = new AtomicBoolean();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                final long freerSeed = seed + phase + 1;
                Thread freer = Thread.ofPlatform().start(() -> {
                    try {
                        SplittableRandom fr = new SplittableRandom(freerSeed);
                        while (!done.get() || !handoff.isEmpty()) {
                            Live b = handoff.poll();
                            if (b == null) {
                                Thread.onSpinWait();
                                continue;
                            }
                            check(b.address, b.size, b.id);
                            allocator.free(b.address);
                            if (fr.nextInt(50) == 0) { // the freer allocates too: its own slow paths reap
                                long a = allocator.malloc(randomSize(fr));
                                allocator.free(a);
                            }
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
                for (int step = 0; step < 5_000 && failure.get() == null; step++) {
                    int op = r.nextInt(10);
                    if (op < 5 || live.isEmpty()) {
                        long size = r.nextBoolean() ? 16 + r.nextInt(200) : randomSize(r);
                        long a = allocator.malloc(size);
                        long u = allocator.usableSize(a);
                        fill(a, u, id);
                        live.add(new Live(a, u, id++));
                    } else {
                        int i = r.nextInt(live.size());
                        Live b = live.get(i);
                        live.set(i, live.get(live.size() - 1));
                        live.remove(live.size() - 1);
                        if (op < 8) {
                            handoff.add(b);
                        } else {
                            check(b.address, b.size, b.id);
                            allocator.free(b.address);
                        }
                    }
                }
                done.set(true);
                freer.join();
                if (failure.get() != null) {
                    throw new AssertionError(failure.get());
                }
                allocator.validate();
                for (Live b : live) {
                    check(b.address, b.size, b.id);
                }
            }
            for (Live b : live) {
                allocator.free(b.address);
            }
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    /** Arenas and virtual threads under a random workload; arenas are closed or left open for the reaper. */
    @Test
    void arenasAndVirtualThreadsUnderRandomWorkload() throws Exception {
        long seed = System.nanoTime();
        System.out.println("arenasAndVirtualThreads seed " + seed);
        try (Allocator allocator = Allocator.create()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ConcurrentLinkedQueue<Live> crossing = new ConcurrentLinkedQueue<>();
            for (int round = 0; round < 10; round++) {
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    final long tseed = seed + round * 100 + t;
                    Runnable task = () -> {
                        try {
                            SplittableRandom r = new SplittableRandom(tseed);
                            long id = tseed << 20;
                            Arena arena = r.nextInt(3) == 0 ? allocator.newArena() : null;
                            List<Live> mine = new ArrayList<>();
                            List<MemorySegment> arenaSegs = new ArrayList<>();
                            for (int i = 0; i < 1500; i++) {
                                int op = r.nextInt(10);
                                if (op < 5 || mine.isEmpty()) {
                                    long size = randomSize(r);
                                    long a = allocator.malloc(size);
                                    long u = allocator.usableSize(a);
                                    fill(a, u, id);
                                    mine.add(new Live(a, u, id++));
                                } else if (op < 8) {
                                    Live b = mine.remove(r.nextInt(mine.size()));
                                    check(b.address, b.size, b.id);
                                    allocator.free(b.address);
                                } else if (op < 9) {
                                    crossing.add(mine.remove(r.nextInt(mine.size())));
                                } else {
                                    Live o = crossing.poll();
                                    if (o != null) {
                                        check(o.address, o.size, o.id);
                                        allocator.free(o.address);
                                    }
                                }
                                if (arena != null && r.nextInt(4) == 0) {
                                    MemorySegment seg = arena.allocate(1 + r.nextInt(20_000));
                                    seg.fill((byte) (i | 1));
                                    arenaSegs.add(seg);
                                }
                            }
                            for (MemorySegment seg : arenaSegs) {
                                if (seg.get(ValueLayout.JAVA_BYTE, seg.byteSize() - 1) == 0) {
                                    throw new AssertionError("arena segment overwritten");
                                }
                            }
                            for (Live b : mine) {
                                if (r.nextBoolean()) {
                                    crossing.add(b);
                                } else {
                                    check(b.address, b.size, b.id);
                                    allocator.free(b.address);
                                }
                            }
                            if (arena != null && r.nextBoolean()) {
                                arena.close();
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    };
                    threads.add(t % 2 == 0 ? Thread.ofVirtual().start(task) : Thread.ofPlatform().start(task));
                }
                for (Thread t : threads) {
                    t.join();
                }
                if (failure.get() != null) {
                    throw new AssertionError(failure.get());
                }
                allocator.validate();
                for (Live b : crossing) {
                    check(b.address, b.size, b.id);
                }
                allocator.collect(round % 2 == 0);
                allocator.validate();
            }
            Live o;
            while ((o = crossing.poll()) != null) {
                check(o.address, o.size, o.id);
                allocator.free(o.address);
            }
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }


    /** A dead thread's filling batch of delayed frees, handed over by a reap on a virtual thread that then ends. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aDeadThreadsDelayedBatchReapedOnAVirtualThreadStillRuns(boolean virtualReaper) throws Exception {
        try (Allocator allocator = Allocator.create()) {
            for (int round = 0; round < 5; round++) {
                Thread writer = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 10; i++) {
                        long a = allocator.malloc(100 + i);
                        fill(a, allocator.usableSize(a), i);
                        allocator.freeDelayed(a);
                    }
                });
                writer.join();
                Runnable reaper = () -> {
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                    for (int i = 0; i < 20; i++) {
                        allocator.free(allocator.malloc(600_000)); // huge: a slow path, which reaps the writer
                    }
                };
                Thread t = virtualReaper ? Thread.ofVirtual().start(reaper) : Thread.ofPlatform().start(reaper);
                t.join();
                allocator.validate();
            }
            Thread.sleep(2);
            allocator.collect(true);
            allocator.collect(true);
            allocator.validate();
            AllocatorStats stats = allocator.stats();
            assertEquals(0, stats.delayedFreesPending(), "delayed frees pending");
            assertEquals(0, stats.blocksInUse(), "blocks in use");
        }
    }

    // ---------------------------------------------------------------------------------------- carving

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void everyClassFilledAndEmptiedRepeatedlyNeverOverlaps(boolean checked) {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build())) {
            long id = 1;
            for (long size = 1; size <= 512 * 1024; size = size < 128 ? size + 8 : size + size / 5) {
                int count = (int) Math.max(4, Math.min(3_000, (3L << 20) / size));
                for (int round = 0; round < 3; round++) {
                    List<Live> live = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        long a = allocator.malloc(size);
                        long u = allocator.usableSize(a);
                        assertTrue(u >= size);
                        fill(a, u, id);
                        live.add(new Live(a, u, id++));
                    }
                    for (Live b : live) {
                        check(b.address, b.size, b.id);
                    }
                    // free the first half, refill it (the page's free list, then carving again), free all
                    for (int i = 0; i < count / 2; i++) {
                        allocator.free(live.get(i).address);
                    }
                    for (int i = 0; i < count / 2; i++) {
                        long a = allocator.malloc(size);
                        long u = allocator.usableSize(a);
                        fill(a, u, id);
                        live.set(i, new Live(a, u, id++));
                    }
                    for (Live b : live) {
                        check(b.address, b.size, b.id);
                        allocator.free(b.address);
                    }
                }
                allocator.validate();
            }
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    // ---------------------------------------------------------------------------------------- reaping

    /** Short-lived threads (platform and virtual) end while others allocate, free each other's blocks, and collect. */
    @Test
    void threadsEndWhileOthersAllocate() throws Exception {
        long seed = System.nanoTime();
        System.out.println("threadsEndWhileOthersAllocate seed " + seed);
        try (Allocator allocator = Allocator.create()) {
            ConcurrentLinkedQueue<Live> orphans = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread[] workers = new Thread[2];
            for (int w = 0; w < workers.length; w++) {
                final int index = w;
                workers[w] = Thread.ofPlatform().start(() -> {
                    try {
                        SplittableRandom r = new SplittableRandom(seed + index);
                        List<Live> live = new ArrayList<>();
                        long id = (index + 1L) << 40;
                        while (!stop.get()) {
                            for (int i = 0; i < 200; i++) {
                                long size = randomSize(r);
                                long a = allocator.malloc(size);
                                fill(a, allocator.usableSize(a), id);
                                live.add(new Live(a, allocator.usableSize(a), id++));
                            }
                            while (live.size() > 300) {
                                Live b = live.remove(r.nextInt(live.size()));
                                check(b.address, b.size, b.id);
                                allocator.free(b.address);
                            }
                            Live o;
                            while ((o = orphans.poll()) != null) {
                                check(o.address, o.size, o.id);
                                allocator.free(o.address);
                            }
                            int chore = r.nextInt(40);
                            if (chore == 0) {
                                allocator.collect(r.nextBoolean());
                            } else if (chore == 2) {
                                for (Live b : live) {
                                    check(b.address, b.size, b.id);
                                    allocator.free(b.address);
                                }
                                live.clear();
                                allocator.heap().release();
                            }
                        }
                        for (Live b : live) {
                            check(b.address, b.size, b.id);
                            allocator.free(b.address);
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
            }
            SplittableRandom r = new SplittableRandom(seed);
            long id = 1L << 50;
            List<Thread> shortLived = new ArrayList<>();
            for (int gen = 0; gen < 200 && failure.get() == null; gen++) {
                final long base = id;
                id += 10_000;
                final int kind = r.nextInt(5);
                Runnable task = () -> {
                    try {
                        SplittableRandom tr = new SplittableRandom(base);
                        long tid = base;
                        List<Live> mine = new ArrayList<>();
                        Arena arena = kind == 3 ? allocator.newArena() : null;
                        for (int i = 0; i < 300; i++) {
                            long size = randomSize(tr);
                            long a = allocator.malloc(size);
                            fill(a, allocator.usableSize(a), tid);
                            mine.add(new Live(a, allocator.usableSize(a), tid++));
                            if (arena != null) {
                                arena.allocate(1 + tr.nextInt(5000)).fill((byte) 7);
                            }
                        }
                        for (int i = 0; i < mine.size(); i++) {
                            Live b = mine.get(i);
                            if (i % 3 == 0) {
                                orphans.add(b); // freed by a worker after this thread ended
                            } else if (i % 3 == 1 && kind == 4) {
                                allocator.freeDelayed(b.address); // a batch the reaper hands over
                            } else {
                                check(b.address, b.size, b.id);
                                allocator.free(b.address);
                            }
                        }
                        if (kind == 2) {
                            allocator.releaseCurrentThread();
                        }
                        // kind 3: the arena is left open for the reaper
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                };
                Thread t = kind == 1 ? Thread.ofVirtual().start(task) : Thread.ofPlatform().start(task);
                shortLived.add(t);
                if (gen % 4 == 0) {
                    t.join();
                }
            }
            Thread.sleep(50);
            stop.set(true);
            for (Thread w : workers) {
                w.join();
            }
            // validate() needs a quiet heap: a short-lived thread still running made it fail now and then
            for (Thread t : shortLived) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            Live o;
            while ((o = orphans.poll()) != null) {
                check(o.address, o.size, o.id);
                allocator.free(o.address);
            }
            allocator.collect(true);
            allocator.validate();
        }
    }

    /** A visitor that mallocs: its slow paths reap heaps of threads that ended during the walk. */
    @Test
    void aVisitorThatMallocsReapsDuringTheWalk() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            List<Live> keep = new ArrayList<>();
            long id = 1;
            for (int i = 0; i < 2000; i++) {
                long a = allocator.malloc(64 + i % 300);
                fill(a, allocator.usableSize(a), id);
                keep.add(new Live(a, allocator.usableSize(a), id++));
            }
            for (int round = 0; round < 20; round++) {
                List<Thread> dead = new ArrayList<>();
                ConcurrentLinkedQueue<Live> theirs = new ConcurrentLinkedQueue<>();
                for (int t = 0; t < 4; t++) {
                    final long base = 1_000_000L * (round * 4 + t + 1);
                    final boolean arena = t == 3;
                    Thread thread = Thread.ofPlatform().start(() -> {
                        Arena a0 = arena ? allocator.newArena() : null;
                        for (int i = 0; i < 500; i++) {
                            long a = allocator.malloc(16 + i % 1000);
                            fill(a, allocator.usableSize(a), base + i);
                            theirs.add(new Live(a, allocator.usableSize(a), base + i));
                            if (a0 != null) {
                                a0.allocate(100 + i);
                            }
                        }
                    });
                    dead.add(thread);
                }
                for (Thread t : dead) {
                    t.join();
                }
                List<Long> made = new ArrayList<>();
                long[] visited = {0};
                allocator.visitBlocks((address, usable, cls, heap) -> {
                    visited[0]++;
                    if (visited[0] % 50 == 0) {
                        try {
                            Thread.sleep(0, 200_000);
                        } catch (InterruptedException e) {
                            throw new RuntimeException(e);
                        }
                        for (int i = 0; i < 40; i++) {
                            long a = allocator.malloc(8 + (visited[0] * 37 + i * 1001) % 70_000);
                            made.add(a);
                        }
                        if (visited[0] % 500 == 0) {
                            allocator.stats();
                        }
                    }
                    return true;
                });
                for (long a : made) {
                    allocator.free(a);
                }
                allocator.validate();
                for (Live b : theirs) {
                    check(b.address, b.size, b.id);
                    allocator.free(b.address);
                }
                for (Live b : keep) {
                    check(b.address, b.size, b.id);
                }
                allocator.validate();
            }
            for (Live b : keep) {
                allocator.free(b.address);
            }
            allocator.collect(true);
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    /** A visitor that collects, dumps and frees other threads' blocks while dead threads' heaps are reaped. */
    @Test
    void aVisitorThatCollectsDumpsAndFrees() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            for (int round = 0; round < 10; round++) {
                ConcurrentLinkedQueue<Live> theirs = new ConcurrentLinkedQueue<>();
                final int rr = round;
                Thread t = Thread.ofPlatform().start(() -> {
                    Arena arena = rr % 2 == 0 ? allocator.newArena() : null;
                    for (int i = 0; i < 800; i++) {
                        long a = allocator.malloc(16 + i * 37 % 5000);
                        fill(a, allocator.usableSize(a), rr * 10_000L + i);
                        theirs.add(new Live(a, allocator.usableSize(a), rr * 10_000L + i));
                        if (arena != null) {
                            arena.allocate(64 + i);
                        }
                    }
                    for (int i = 0; i < 10; i++) {
                        allocator.freeDelayed(allocator.malloc(100));
                    }
                });
                t.join();
                Thread.sleep(2);
                int[] n = {0};
                Path dump = tmp.resolve("v" + round + ".cdump");
                allocator.visitBlocks((address, usable, cls, heap) -> {
                    n[0]++;
                    if (n[0] == 5) {
                        allocator.collect(true);
                    } else if (n[0] == 10) {
                        allocator.dumpHeap(dump);
                    } else if (n[0] % 7 == 0) {
                        Live b = theirs.poll();
                        if (b != null) {
                            check(b.address, b.size, b.id);
                            allocator.free(b.address);
                        }
                        allocator.free(allocator.malloc(n[0] % 3 == 0 ? 700_000 : 40 + n[0] % 9000));
                    }
                    return true;
                });
                allocator.validate();
                for (Live b : theirs) {
                    check(b.address, b.size, b.id);
                    allocator.free(b.address);
                }
                allocator.collect(true);
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse());
            }
        }
    }

    /** Many allocators at once, threads of each ending: no domain adopts another's segments. */
    @Test
    void manyAllocatorsReapOnlyTheirOwn() throws Exception {
        int n = 6;
        Allocator[] allocators = new Allocator[n];
        for (int i = 0; i < n; i++) {
            allocators[i] = Allocator.create(AllocatorConfig.builder().checked(i % 2 == 0).build());
        }
        try {
            Map<Long, Integer> ownerOf = new HashMap<>();
            List<Live>[] blocks = new List[n];
            for (int round = 0; round < 10; round++) {
                for (int i = 0; i < n; i++) {
                    final Allocator alloc = allocators[i];
                    final int ai = i;
                    final long base = (round * 100L + i) << 20;
                    List<Live> mine = java.util.Collections.synchronizedList(new ArrayList<>());
                    Thread t = Thread.ofPlatform().start(() -> {
                        for (int k = 0; k < 400; k++) {
                            long a = alloc.malloc(16 + k * 7 % 3000);
                            fill(a, alloc.usableSize(a), base + k);
                            mine.add(new Live(a, alloc.usableSize(a), base + k));
                        }
                    });
                    t.join();
                    if (blocks[ai] == null) {
                        blocks[ai] = new ArrayList<>();
                    }
                    blocks[ai].addAll(mine);
                }
                // every allocator's slow paths reap its own dead threads
                for (int i = 0; i < n; i++) {
                    Thread.sleep(2);
                    for (int k = 0; k < 300; k++) {
                        long a = allocators[i].malloc(16 + k * 13 % 20000);
                        assertTrue(allocators[i].owns(a));
                        for (int j = 0; j < n; j++) {
                            if (j != i) {
                                assertTrue(!allocators[j].owns(a), "allocator " + j + " owns a block of " + i);
                            }
                        }
                        allocators[i].free(a);
                    }
                }
                for (int i = 0; i < n; i++) {
                    for (Live b : blocks[i]) {
                        check(b.address, b.size, b.id);
                        assertTrue(allocators[i].owns(b.address));
                    }
                    allocators[i].validate();
                    if (round % 3 == 2) {
                        for (Live b : blocks[i]) {
                            allocators[i].free(b.address);
                        }
                        blocks[i].clear();
                    }
                }
            }
        } finally {
            for (Allocator a : allocators) {
                a.close();
            }
        }
    }

    /** Reaping racing Heap.release(), collect() and (at the end) close. */
    @Test
    void reapingRacesReleaseAndCollect() throws Exception {
        for (int iteration = 0; iteration < 20; iteration++) {
            Allocator allocator = Allocator.create();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            ConcurrentLinkedQueue<Live> leftovers = new ConcurrentLinkedQueue<>();
            for (int t = 0; t < 6; t++) {
                final int index = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < 400; i++) {
                            long a = allocator.malloc(16 + (i * 31L + index) % 9000);
                            fill(a, allocator.usableSize(a), index * 100_000L + i);
                            Live b = new Live(a, allocator.usableSize(a), index * 100_000L + i);
                            if (i % 2 == 0) {
                                leftovers.add(b);
                            } else {
                                allocator.free(a);
                            }
                            if (i % 97 == 0) {
                                switch (index % 3) {
                                    case 0 -> allocator.heap().release();
                                    case 1 -> allocator.collect(i % 2 == 0);
                                    default -> Thread.sleep(1);
                                }
                            }
                        }
                        if (index % 2 == 0) {
                            allocator.heap().release();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            go.countDown();
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            allocator.validate();
            for (Live b : leftovers) {
                check(b.address, b.size, b.id);
            }
            if (iteration % 2 == 0) {
                for (Live b : leftovers) {
                    allocator.free(b.address);
                }
                allocator.collect(true);
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse());
            }
            allocator.close();
        }
    }

    // ---------------------------------------------------------------------------------------- huge calloc

    static void assertZero(long address, long size) {
        MemorySegment s = view(address, size);
        for (long offset = 0; offset + 8 <= size; offset += 8) {
            if (s.get(ValueLayout.JAVA_LONG_UNALIGNED, offset) != 0) {
                throw new AssertionError("calloc'd block 0x" + Long.toHexString(address) + " of " + size
                        + " bytes is not zero at " + offset);
            }
        }
        for (long offset = size & ~7L; offset < size; offset++) {
            assertEquals(0, s.get(ValueLayout.JAVA_BYTE, offset));
        }
    }

    static void assertZeroPrefix(long address, long size) {
        MemorySegment s = view(address, size);
        for (long i = 0; i < size; i += 1 + i / 4) {
            assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "calloc'd byte " + i + " of " + size);
        }
    }

    static List<AllocatorConfig> hugeConfigs() {
        List<AllocatorConfig> configs = new ArrayList<>();
        for (boolean checked : new boolean[] {true, false}) {
            for (SegmentConfig.HugePages hp : SegmentConfig.HugePages.values()) {
                for (int fill : new int[] {-1, 0xAB}) {
                    for (long delay : new long[] {fill < 0 ? 0 : 1000}) {
                        configs.add(AllocatorConfig.builder().checked(checked).hugePages(hp).freeFill(fill)
                                .purgeDelay(java.time.Duration.ofMillis(delay)).build());
                    }
                }
            }
        }
        return configs;
    }

    @Test
    void hugeCallocReadsZeroInEveryConfig() throws Exception {
        long seed = System.nanoTime();
        System.out.println("hugeCalloc seed " + seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (AllocatorConfig config : hugeConfigs()) {
            Allocator allocator;
            try {
                allocator = Allocator.create(config);
            } catch (RuntimeException e) {
                System.out.println("skipped " + config + ": " + e);
                continue;
            }
            try (allocator) {
                List<long[]> live = new ArrayList<>();
                for (int step = 0; step < 40; step++) {
                    long size = 512 * 1024 + 1 + r.nextLong(6L << 20);
                    int op = r.nextInt(6);
                    if (op == 0) { // exposed, dirtied, freed (a stale write after the free too)
                        MemorySegment s = allocator.allocate(size, 16);
                        s.fill((byte) 0x5C);
                        allocator.free(s);
                        s.set(ValueLayout.JAVA_BYTE, size / 2, (byte) 0x77);
                    } else if (op == 1) {
                        long a = allocator.malloc(size);
                        view(a, size).fill((byte) 0x3D);
                        live.add(new long[] {a, size});
                    } else if (op == 2 && !live.isEmpty()) {
                        long[] b = live.remove(r.nextInt(live.size()));
                        allocator.free(b[0]);
                    } else if (op == 3 && !live.isEmpty()) { // realloc a huge block (grow or shrink), dirty
                        int i = r.nextInt(live.size());
                        long[] b = live.get(i);
                        long ns = 512 * 1024 + 1 + r.nextLong(6L << 20);
                        long a = allocator.realloc(b[0], ns);
                        view(a, ns).fill((byte) 0x4E);
                        live.set(i, new long[] {a, ns});
                    } else {
                        long a = allocator.calloc(1, size);
                        assertZero(a, size);
                        view(a, size).fill((byte) 0x11);
                        if (r.nextBoolean()) {
                            allocator.free(a);
                        } else {
                            live.add(new long[] {a, size});
                        }
                    }
                    if (step % 10 == 9) {
                        allocator.collect(r.nextBoolean());
                    }
                }
                // the same sizes again, right after their frees
                for (long[] b : live) {
                    allocator.free(b[0]);
                    long a = allocator.calloc(b[1], 1);
                    assertZero(a, b[1]);
                    allocator.free(a);
                }
                try (Arena arena = allocator.newArena()) { // an arena's huge blocks: exposed
                    MemorySegment s = arena.allocate(3L << 20);
                    s.fill((byte) 0x22);
                }
                long a = allocator.calloc(1, 3L << 20);
                assertZero(a, 3L << 20);
                allocator.free(a);
                allocator.validate();
            }
        }
    }
}
