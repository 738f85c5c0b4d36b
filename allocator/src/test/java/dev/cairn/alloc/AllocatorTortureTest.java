package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A randomized concurrency torture test: platform and virtual threads share three checked allocators (the default;
 * small segments with a free fill, sampling and no purge delay; a commit limit, so OutOfMemoryError comes now and
 * then) and do, at random, every operation of the API on their own blocks and on blocks other threads allocated
 * (handed over through a queue), blocks of one allocator offered to the others, while two control threads (one
 * virtual) collect, take stats, walk, dump and report QSBR quiescent points, and one pauses everyone now and then to
 * validate and to check that every block the model holds is live and walked. Threads come and go: some release
 * their heaps and go on, some end without a release while their blocks live on, some leave an arena open or end as
 * online QSBR readers, some run with their interrupt flag set. {@code -Dcairn.torture.platformThreads} and
 * {@code -Dcairn.torture.virtualThreads} set how many run at once (3 and 6). Every block carries a pattern (its address and a sequence number) checked before each free and
 * realloc; the model's address table catches a block handed out twice. At the end every survivor is freed and each
 * allocator must validate, hold no block and give its memory back.
 *
 * <p>Bounded to {@code -Dcairn.torture.seconds} (default 20); the seed is printed and {@code -Dcairn.torture.seed}
 * replays it (thread interleavings differ from run to run, the operations each thread picks do not).
 */
class AllocatorTortureTest {

    private static final long MIB = 1L << 20;
    /**
     * {@code -Dcairn.torture.unchecked=true}: unchecked allocators, and none of the misuse an unchecked allocator
     * does not survive (bad, foreign and stale addresses, other threads' heaps).
     */
    private static final boolean CHECKED = !Boolean.getBoolean("cairn.torture.unchecked");

    @Test
    void platformAndVirtualThreadsShareThreeAllocators(@TempDir Path dir) throws Exception {
        long seed = Long.getLong("cairn.torture.seed", System.nanoTime());
        long seconds = Long.getLong("cairn.torture.seconds", 20);
        System.out.printf("AllocatorTortureTest: -Dcairn.torture.seed=%d -Dcairn.torture.seconds=%d%n", seed, seconds);
        Allocator main = Allocator.create(AllocatorConfig.builder().checked(CHECKED).build());
        Allocator small = Allocator.create(AllocatorConfig.builder().checked(CHECKED).segmentSize(4 * MIB)
                .purgeDelay(Duration.ZERO)
                .freeFill(0xA5).sampling(true).build());
        // A commit limit: its callers see OutOfMemoryError now and then, which must leave everything intact.
        Allocator limited = Allocator.create(AllocatorConfig.builder().checked(CHECKED).segmentSize(4 * MIB)
                .commitLimit(64 * MIB)
                .build());
        try {
            new Torture(seed, seconds, dir, main, small, limited).run();
        } finally {
            limited.close();
            small.close();
            main.close();
        }
    }

    /** A block the model holds: exactly one thread (or the hand-over queue) holds it at a time. */
    static final class Block {
        final int allocator;
        long address;
        long size;
        long seq;
        MemorySegment segment; // from allocate(): freed through free(MemorySegment) at times
        String history;

        Block(int allocator, long address, long size, long seq, String how) {
            this.allocator = allocator;
            this.address = address;
            this.size = size;
            this.seq = seq;
            this.history = how;
        }

        void note(String event) {
            history = history.length() > 400 ? history.substring(history.length() - 300) + " " + event
                    : history + " " + event;
        }

        @Override
        public String toString() {
            return "block 0x" + Long.toHexString(address) + " (" + size + " B, allocator " + allocator + ", seq " + seq
                    + ", " + history + ")";
        }
    }

    static final class Torture {
        final long seed;
        final long deadline;
        final Path dir;
        final Allocator[] allocators;
        final Map<Long, Block>[] live;
        final ConcurrentLinkedQueue<Block> handOver = new ConcurrentLinkedQueue<>();
        final AtomicInteger handOverSize = new AtomicInteger();
        /** Platform threads' heaps, published for other threads to misuse (they must refuse). */
        final AtomicReferenceArray<Heap> published = new AtomicReferenceArray<>(16);
        final AtomicLong seqs = new AtomicLong();
        final AtomicLong progress = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final ReentrantReadWriteLock world = new ReentrantReadWriteLock();
        final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
        volatile boolean stop;

        @SuppressWarnings({"unchecked", "rawtypes"}) // an array of generic maps
        Torture(long seed, long seconds, Path dir, Allocator... allocators) {
            this.seed = seed;
            this.deadline = System.nanoTime() + seconds * 1_000_000_000L;
            this.dir = dir;
            this.allocators = allocators;
            this.live = new Map[allocators.length];
            for (int i = 0; i < live.length; i++) {
                live[i] = new ConcurrentHashMap<>();
            }
        }

        void count(String what) {
            counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
        }

        void failed(Throwable t) {
            if (failure.compareAndSet(null, t)) {
                stop = true;
            }
        }

        void run() throws Exception {
            SplittableRandom rnd = new SplittableRandom(seed);
            Thread control = Thread.ofPlatform().name("torture-control").start(new Control(rnd.split(), true));
            // A second one on a virtual thread: no heap of its own, collects the shared heaps under their locks.
            Thread virtualControl = Thread.ofVirtual().name("torture-control-v").start(new Control(rnd.split(), false));
            List<Thread> workers = new ArrayList<>();
            int platform = Integer.getInteger("cairn.torture.platformThreads", 3);
            int virtual = Integer.getInteger("cairn.torture.virtualThreads", 6);
            int started = 0;
            long lastProgress = progress.get();
            long lastChange = System.nanoTime();
            while (!stop && System.nanoTime() < deadline) {
                workers.removeIf(t -> !t.isAlive());
                long p = workers.stream().filter(t -> !t.isVirtual()).count();
                long v = workers.size() - p;
                while (p < platform || v < virtual) {
                    boolean isVirtual = p >= platform;
                    Worker worker = new Worker(rnd.split(), isVirtual, started);
                    Thread thread = (isVirtual ? Thread.ofVirtual() : Thread.ofPlatform())
                            .name("torture-" + (isVirtual ? "v" : "p") + started).unstarted(worker);
                    started++;
                    thread.start();
                    workers.add(thread);
                    if (isVirtual) {
                        v++;
                    } else {
                        p++;
                    }
                }
                Thread.sleep(20);
                long now = System.nanoTime();
                if (progress.get() != lastProgress) {
                    lastProgress = progress.get();
                    lastChange = now;
                } else if (now - lastChange > 30_000_000_000L) {
                    failed(new AssertionError("no progress for 30 s (deadlock?)\n" + stacks()));
                }
            }
            stop = true;
            joinAll(workers, control, virtualControl);
            if (failure.get() == null) {
                finish();
            }
            System.out.printf("  %d threads; %s%n", started, new java.util.TreeMap<>(counts));
            if (failure.get() != null) {
                Throwable t = failure.get();
                throw new AssertionError("seed " + seed + ": " + t, t);
            }
        }

        private void joinAll(List<Thread> workers, Thread... control) throws InterruptedException {
            long until = System.nanoTime() + 60_000_000_000L;
            List<Thread> all = new ArrayList<>(workers);
            all.addAll(List.of(control));
            for (Thread thread : all) {
                thread.join(Duration.ofNanos(Math.max(1, until - System.nanoTime())));
                if (thread.isAlive()) {
                    failed(new AssertionError(thread + " did not end within 60 s of the stop (deadlock?)\n" + stacks()));
                    throw new AssertionError("seed " + seed + ": " + failure.get(), failure.get());
                }
            }
        }

        static String stacks() {
            StringBuilder out = new StringBuilder();
            Thread.getAllStackTraces().forEach((thread, frames) -> {
                if (thread.getName().startsWith("torture") || thread.getName().startsWith("main")) {
                    out.append(thread).append(' ').append(thread.getState()).append('\n');
                    for (StackTraceElement frame : frames) {
                        out.append("    at ").append(frame).append('\n');
                    }
                }
            });
            return out.toString();
        }

        /** Everything stopped: free the survivors, then each allocator must be empty, valid and give memory back. */
        void finish() {
            for (Block b; (b = handOver.poll()) != null; ) {
                check(b, "final free");
                unregister(b);
                allocators[b.allocator].free(b.address);
            }
            for (int a = 0; a < allocators.length; a++) {
                assertEquals(Map.of(), live[a], "blocks the model lost track of");
                Allocator allocator = allocators[a];
                AllocatorStats stats = null;
                for (int round = 0; round < 50; round++) {
                    allocator.collect(true);
                    stats = allocator.stats();
                    if (stats.blocksInUse() == 0 && stats.delayedFreesPending() == 0) {
                        break;
                    }
                    sleep(10);
                }
                allocator.validate();
                AtomicLong walked = new AtomicLong();
                allocator.visitBlocks((address, usable, bin, heap) -> walked.incrementAndGet() > 0);
                System.out.printf("  allocator %d at the end: %s%n", a, stats.toJson().replaceAll(",\"bins\".*", "}"));
                assertEquals(0, stats.delayedFreesPending(), "delayed frees pending, allocator " + a);
                assertEquals(0, stats.blocksInUse(), "blocks in use, allocator " + a + ": " + stats.bins());
                assertEquals(0, walked.get(), "blocks walked, allocator " + a);
                assertEquals(0, dev.cairn.alloc.internal.Inspect.sampleCount(allocator), "site samples, allocator " + a);
                assertEquals(0, stats.abandonedSegments(), "abandoned segments, allocator " + a);
                // Committed bytes stay at the peak of exposed segments (allocate() and arenas), which are purged and
                // kept mapped until close by design (docs/design/allocator.md, section 5): RAM must be back.
                long resident = dev.cairn.alloc.internal.Inspect.residentBytes(allocator);
                assertTrue(resident <= 4 * MIB, "resident bytes after collect(true), allocator " + a + ": " + resident);
                assertEquals(0, stats.liveSegments(), "live segments, allocator " + a + "\n"
                        + dev.cairn.alloc.internal.Inspect.describeSegments(allocator));
            }
        }

        // ------------------------------------------------------------------------------------------ the model

        void register(Block b) {
            Block before = live[b.allocator].putIfAbsent(b.address, b);
            if (before != null) {
                throw new AssertionError("address handed out twice: " + b + "; still live: " + before);
            }
        }

        void unregister(Block b) {
            if (!live[b.allocator].remove(b.address, b)) {
                throw new AssertionError("model lost " + b + ": table has " + live[b.allocator].get(b.address));
            }
        }

        static MemorySegment view(long address, long size) {
            return Blocks.view(address, size);
        }

        static long value(long address, long seq, long offset) {
            long x = address * 0x9E3779B97F4A7C15L ^ seq * 0xBF58476D1CE4E5B9L ^ offset * 0x94D049BB133111EBL;
            return x ^ (x >>> 31);
        }

        /** Offsets of the pattern words: every word of a small block, the ends and the middle of a large one. */
        static long[] offsets(long size) {
            if (size <= 2048) {
                long[] all = new long[(int) (size / 8)];
                for (int i = 0; i < all.length; i++) {
                    all[i] = 8L * i;
                }
                return all;
            }
            return new long[] {0, 8, (size / 2) & -8, (size / 3) & -8, (size / 5 * 4) & -8, size - 16, size - 8};
        }

        static void write(Block b) {
            MemorySegment m = view(b.address, b.size);
            for (long offset : offsets(b.size)) {
                m.set(ValueLayout.JAVA_LONG, offset, value(b.address, b.seq, offset));
            }
        }

        static void check(Block b, String when) {
            checkAs(b, b.address, b.size, when);
        }

        /** Checks the pattern {@code b} had at {@code address} over {@code size} bytes now at {@code b.address}. */
        static void checkAs(Block b, long address, long size, String when) {
            MemorySegment m = view(b.address, size);
            for (long offset : offsets(b.size)) {
                if (offset + 8 > size) {
                    continue;
                }
                long actual = m.get(ValueLayout.JAVA_LONG, offset);
                long expected = value(address, b.seq, offset);
                if (actual != expected) {
                    throw new AssertionError(when + ": " + b + " corrupt at offset " + offset + ": 0x"
                            + Long.toHexString(actual) + ", expected 0x" + Long.toHexString(expected));
                }
            }
        }

        static long randomSize(SplittableRandom rnd) {
            int r = rnd.nextInt(1000);
            long size;
            if (r < 600) {
                size = rnd.nextLong(32, 513);
            } else if (r < 850) {
                size = rnd.nextLong(512, 8193);
            } else if (r < 960) {
                size = rnd.nextLong(8192, 65537);
            } else if (r < 995) {
                size = rnd.nextLong(65536, 512 * 1024 + 1);
            } else {
                size = rnd.nextLong(512 * 1024, 3 * MIB);
            }
            return Math.max(32, size & -8);
        }

        static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        static void expectRefused(String what, Runnable call) {
            try {
                call.run();
            } catch (IllegalArgumentException expected) {
                return;
            }
            throw new AssertionError(what + " was not refused with an IllegalArgumentException");
        }

        // ------------------------------------------------------------------------------------------ workers

        final class Worker implements Runnable {
            final SplittableRandom rnd;
            final boolean isVirtual;
            final int number;
            final List<Block> mine = new ArrayList<>();
            final Heap[] held = new Heap[allocators.length];
            /** Freed segments of allocate(): reading them is a use after free, but never a crash. */
            final List<MemorySegment> stale = new ArrayList<>();
            /** A QSBR reader of one allocator, online while this thread runs operations (null for most threads). */
            dev.cairn.reclaim.QsbrThread reader;
            int readerOf;
            /** Runs every operation with its interrupt flag set. */
            final boolean interrupted;
            final int ops;
            /** Arenas this thread keeps open across operations; some are left open when it ends. */
            final List<Arena> openArenas = new ArrayList<>();
            final List<List<Block>> arenaBlocks = new ArrayList<>();

            Worker(SplittableRandom rnd, boolean isVirtual, int number) {
                this.rnd = rnd;
                this.isVirtual = isVirtual;
                this.number = number;
                this.ops = rnd.nextInt(200, 6000);
                this.interrupted = rnd.nextInt(6) == 0;
            }

            String tag() {
                return (isVirtual ? "v" : "p") + number;
            }

            @Override
            public void run() {
                try {
                    if (rnd.nextInt(4) == 0) {
                        readerOf = rnd.nextInt(allocators.length);
                        reader = allocators[readerOf].qsbrThread();
                        reader.detach(); // online only while it runs operations: see below
                        count("qsbr reader");
                    }
                    if (interrupted) {
                        count("interrupted thread");
                    }
                    for (int done = 0; done < ops && !stop; ) {
                        world.readLock().lock();
                        try {
                            if (reader != null) {
                                reader.attach();
                            }
                            for (int n = 0; n < 32 && done < ops && !stop; n++, done++) {
                                if (interrupted) { // the allocator must neither fail nor swallow the flag
                                    Thread.currentThread().interrupt();
                                }
                                try {
                                    step();
                                    if (interrupted && !Thread.interrupted()) {
                                        throw new AssertionError("an operation cleared the interrupt flag");
                                    }
                                } catch (OutOfMemoryError e) {
                                    if (e.getMessage() == null || !e.getMessage().contains("commitLimit")) {
                                        throw e;
                                    }
                                    count("OutOfMemoryError (commit limit)");
                                }
                                if (reader != null) {
                                    reader.quiescent();
                                }
                                progress.incrementAndGet();
                            }
                            if (reader != null) {
                                reader.detach(); // about to block on the world lock
                            }
                        } finally {
                            world.readLock().unlock();
                        }
                    }
                    world.readLock().lock();
                    try {
                        end();
                    } finally {
                        world.readLock().unlock();
                    }
                } catch (Throwable t) {
                    failed(new AssertionError(Thread.currentThread().getName() + " failed", t));
                }
            }

            /** The thread's end: its blocks live on in the queue; it releases, or just ends; arenas closed or left. */
            void end() {
                for (Block b : mine) {
                    b.note("left by " + tag());
                    handOver(b);
                }
                mine.clear();
                while (!openArenas.isEmpty()) {
                    if (rnd.nextInt(3) > 0) {
                        closeArena(0);
                    } else {
                        openArenas.remove(0);
                        for (Block b : arenaBlocks.remove(0)) {
                            unregister(b); // its thread ends with the arena open: reaped, every block with it
                        }
                        count("arena left open");
                    }
                }
                switch (rnd.nextInt(3)) {
                    case 0 -> {
                        for (Allocator allocator : allocators) {
                            allocator.releaseCurrentThread();
                        }
                        count("end released");
                    }
                    case 1 -> {
                        allocators[rnd.nextInt(allocators.length)].releaseCurrentThread();
                        count("end half released");
                    }
                    default -> count("end without release");
                }
                if (reader != null && reader.isRegistered()) {
                    if (rnd.nextBoolean()) {
                        reader.unregister();
                    } else {
                        reader.attach(); // ends online: the domain must find the dead thread, or no delayed free runs
                        count("reader ends online");
                    }
                }
            }

            int pickAllocator() {
                int r = rnd.nextInt(8);
                return r < 2 ? 1 : r == 2 ? 2 : 0;
            }

            void step() {
                int r = rnd.nextInt(1000);
                if (r < 260) {
                    allocate();
                } else if (r < 440) {
                    freeOwn();
                } else if (r < 520) {
                    if (!mine.isEmpty()) {
                        Block b = mine.remove(rnd.nextInt(mine.size()));
                        b.note("given by " + tag());
                        handOver(b);
                    }
                } else if (r < 640) {
                    take();
                } else if (r < 700) {
                    reallocOwn();
                } else if (r < 740) {
                    freeDelayedOwn();
                } else if (r < 800) {
                    query();
                } else if (r < 830) {
                    if (CHECKED) {
                        wrongAllocator();
                    }
                } else if (r < 860) {
                    arena();
                } else if (r < 890) {
                    heapLoop();
                } else if (r < 900) {
                    releaseAndGoOn();
                } else if (r < 915) {
                    if (CHECKED) {
                        stolenHeap();
                    }
                } else if (r < 935) {
                    tiny();
                } else if (r < 945) {
                    staleRead();
                } else if (r < 952) {
                    if (CHECKED) {
                        segmentMisuse();
                    }
                } else if (r < 958) {
                    reallocEdges();
                } else if (r < 961) {
                    allocators[pickAllocator()].collect(rnd.nextBoolean()); // its own heap, while others free into it
                    count("worker collect");
                } else if (r < 962) {
                    allocators[pickAllocator()].stats();
                    count("worker stats");
                } else {
                    allocate();
                }
                if (mine.size() > 96) {
                    freeOwn();
                }
            }

            void handOver(Block b) {
                if (handOverSize.get() > 3000) {
                    check(b, "free instead of hand-over");
                    unregister(b);
                    allocators[b.allocator].free(b.address);
                    count("free (queue full)");
                    return;
                }
                handOverSize.incrementAndGet();
                handOver.add(b);
            }

            Heap heap(int a) {
                Allocator allocator = allocators[a];
                if (held[a] == null || rnd.nextInt(50) == 0) {
                    held[a] = allocator.heap();
                    if (!isVirtual) {
                        published.set(rnd.nextInt(published.length()), held[a]);
                    }
                }
                return held[a];
            }

            void allocate() {
                int a = pickAllocator();
                Allocator allocator = allocators[a];
                long size = randomSize(rnd);
                int how = rnd.nextInt(10);
                long address;
                MemorySegment segment = null;
                String name;
                boolean zeroed = false;
                switch (how) {
                    case 0, 1, 2 -> {
                        address = allocator.malloc(size);
                        name = "malloc";
                    }
                    case 3, 4 -> {
                        address = heap(a).malloc(size);
                        name = "heap.malloc";
                    }
                    case 5 -> {
                        long count = 1 << rnd.nextInt(4);
                        size = Math.max(32, size / count / 8 * 8 * count);
                        address = (rnd.nextBoolean() ? allocator.calloc(count, size / count)
                                : heap(a).calloc(count, size / count));
                        zeroed = true;
                        name = "calloc";
                    }
                    case 6, 7 -> {
                        long alignment = rnd.nextInt(40) == 0 ? 8 * MIB : 1L << rnd.nextInt(3, 21);
                        if (a > 0 && alignment > 4 * MIB) {
                            alignment = 4 * MIB;
                        }
                        address = rnd.nextBoolean() ? allocator.mallocAligned(size, alignment)
                                : heap(a).mallocAligned(size, alignment);
                        if ((address & (alignment - 1)) != 0) {
                            throw new AssertionError("mallocAligned(" + size + ", " + alignment + ") = 0x"
                                    + Long.toHexString(address));
                        }
                        name = "mallocAligned(" + alignment + ")";
                    }
                    default -> {
                        long alignment = 1L << rnd.nextInt(0, 13);
                        segment = allocator.allocate(size, alignment);
                        address = segment.address();
                        if (segment.byteSize() != size || (address & (alignment - 1)) != 0) {
                            throw new AssertionError("allocate(" + size + ", " + alignment + ") = " + segment);
                        }
                        name = "allocate";
                    }
                }
                if (address == 0 || (address & 15) != 0) {
                    throw new AssertionError(name + "(" + size + ") = 0x" + Long.toHexString(address));
                }
                Block b = new Block(a, address, size, seqs.incrementAndGet(), name + " by " + tag());
                b.segment = segment;
                register(b);
                if (zeroed) {
                    MemorySegment m = view(address, size);
                    for (long offset : offsets(size)) {
                        if (m.get(ValueLayout.JAVA_LONG, offset) != 0) {
                            throw new AssertionError("calloc block not zero at " + offset + ": " + b);
                        }
                    }
                }
                write(b);
                mine.add(b);
                count(name.startsWith("mallocAligned") ? "mallocAligned" : name);
            }

            void freeOwn() {
                if (mine.isEmpty()) {
                    return;
                }
                Block b = mine.remove(rnd.nextInt(mine.size()));
                free(b);
            }

            void free(Block b) {
                check(b, "free by " + tag());
                unregister(b);
                Allocator allocator = allocators[b.allocator];
                if (b.segment != null && rnd.nextBoolean()) {
                    allocator.free(b.segment);
                    count("free(segment)");
                } else if (rnd.nextInt(3) == 0) {
                    heap(b.allocator).free(b.address);
                    count("heap.free");
                } else {
                    allocator.free(b.address);
                    count("free");
                }
                if (b.segment != null && stale.size() < 16) {
                    stale.add(b.segment);
                }
                if (CHECKED && rnd.nextInt(8) == 0) { // a stale address: any answer, but no crash and no other exception
                    allocator.isLive(b.address);
                    allocator.owns(b.address);
                    try {
                        allocator.usableSize(b.address);
                    } catch (IllegalArgumentException refused) {
                        count("stale usableSize refused");
                    }
                }
            }

            void take() {
                Block b = handOver.poll();
                if (b == null) {
                    return;
                }
                handOverSize.decrementAndGet();
                b.note("taken by " + tag());
                check(b, "taken by " + tag());
                switch (rnd.nextInt(10)) {
                    case 0, 1, 2, 3 -> free(b);
                    case 4, 5, 6 -> realloc(b);
                    case 7 -> freeDelayed(b);
                    default -> mine.add(b);
                }
            }

            void reallocOwn() {
                if (!mine.isEmpty()) {
                    realloc(mine.remove(rnd.nextInt(mine.size())));
                }
            }

            void realloc(Block b) {
                check(b, "realloc by " + tag());
                long newSize = rnd.nextBoolean() ? Math.min(4 * MIB, b.size + randomSize(rnd))
                        : Math.max(32, rnd.nextLong(16, b.size + 1) & -8);
                unregister(b);
                long old = b.address;
                long oldSize = b.size;
                long moved;
                try {
                    moved = rnd.nextBoolean() ? allocators[b.allocator].realloc(old, newSize)
                            : heap(b.allocator).realloc(old, newSize);
                } catch (OutOfMemoryError e) { // the block must be left as it was, as C's realloc leaves it
                    register(b);
                    mine.add(b);
                    if (!allocators[b.allocator].isLive(old)) {
                        throw new AssertionError("a failed realloc freed " + b, e);
                    }
                    check(b, "after a failed realloc");
                    throw e;
                }
                b.address = moved;
                b.size = newSize;
                b.segment = null;
                b.note("realloc " + oldSize + "->" + newSize + (moved == old ? " in place" : " moved") + " by " + tag());
                register(b);
                long kept = Math.min(oldSize, newSize);
                long savedSize = b.size;
                b.size = oldSize; // the old pattern's offsets
                checkAs(b, old, kept, "content after realloc");
                b.size = savedSize;
                b.seq = seqs.incrementAndGet();
                write(b);
                mine.add(b);
                count("realloc");
            }

            void freeDelayedOwn() {
                if (!mine.isEmpty()) {
                    Block b = mine.remove(rnd.nextInt(mine.size()));
                    check(b, "freeDelayed by " + tag());
                    freeDelayed(b);
                }
            }

            void freeDelayed(Block b) {
                if (reader != null && reader.isRegistered() && rnd.nextInt(3) == 0) {
                    if (readerOf != b.allocator) { // another allocator's domain: its hook proves, and refuses
                        if (CHECKED) {
                            dev.cairn.reclaim.QsbrThread wrong = reader;
                            expectRefused("defer on another allocator's QSBR handle", () -> wrong.defer(b.address));
                            check(b, "after a refused defer");
                        }
                    } else {
                        unregister(b);
                        reader.defer(b.address); // a delayed free too: proven and marked by the domain's hook
                        count("qsbr defer");
                        refusedWhilePending(b);
                        return;
                    }
                }
                unregister(b);
                allocators[b.allocator].freeDelayed(b.address);
                count("freeDelayed");
                refusedWhilePending(b);
            }

            /**
             * This thread reads in the block's domain and has passed no quiescent point since the delayed free, so
             * the block is still pending, whoever runs delayed frees meanwhile: every second free of it is refused.
             */
            void refusedWhilePending(Block b) {
                if (!CHECKED || reader == null || readerOf != b.allocator || !reader.isRegistered() || !reader.isAttached()
                        || rnd.nextBoolean()) {
                    return;
                }
                Allocator allocator = allocators[b.allocator];
                long p = b.address;
                expectRefused("free of a pending block", () -> allocator.free(p));
                expectRefused("freeDelayed of a pending block", () -> allocator.freeDelayed(p));
                expectRefused("usableSize of a pending block", () -> allocator.usableSize(p));
                expectRefused("realloc of a pending block", () -> allocator.realloc(p, 64));
                if (allocator.isLive(p)) {
                    throw new AssertionError("a pending block is live: " + b);
                }
                count("pending block refused");
            }

            void query() {
                if (mine.isEmpty()) {
                    return;
                }
                Block b = mine.get(rnd.nextInt(mine.size()));
                Allocator allocator = allocators[b.allocator];
                long usable = rnd.nextBoolean() ? allocator.usableSize(b.address)
                        : heap(b.allocator).usableSize(b.address);
                if (usable < b.size) {
                    throw new AssertionError("usableSize " + usable + " < " + b);
                }
                if (!allocator.owns(b.address) || !allocator.owns(b.address + b.size - 1)) {
                    throw new AssertionError("owns() false for " + b);
                }
                if (!CHECKED) {
                    check(b, "after queries");
                    return;
                }
                if (!allocator.isLive(b.address) || allocator.isLive(b.address + 8)) {
                    throw new AssertionError("isLive wrong for " + b);
                }
                expectRefused("usableSize of an interior address", () -> allocator.usableSize(b.address + 16));
                expectRefused("free of an interior address", () -> allocator.free(b.address + 16));
                check(b, "after queries");
                count("query");
            }

            /** A block of one allocator offered to the other: refused, both left intact. */
            void wrongAllocator() {
                if (mine.isEmpty()) {
                    return;
                }
                Block b = mine.get(rnd.nextInt(mine.size()));
                Allocator other = allocators[(b.allocator + 1 + rnd.nextInt(allocators.length - 1)) % allocators.length];
                expectRefused("free to the wrong allocator", () -> other.free(b.address));
                expectRefused("usableSize on the wrong allocator", () -> other.usableSize(b.address));
                expectRefused("realloc on the wrong allocator", () -> other.realloc(b.address, 64));
                expectRefused("freeDelayed on the wrong allocator", () -> other.freeDelayed(b.address));
                if (b.segment != null) {
                    expectRefused("free(segment) to the wrong allocator", () -> other.free(b.segment));
                }
                if (other.owns(b.address) || other.isLive(b.address)) {
                    throw new AssertionError("the other allocator claims " + b);
                }
                if (!allocators[b.allocator].isLive(b.address)) {
                    throw new AssertionError("not live after refusals: " + b);
                }
                check(b, "after wrong-allocator refusals");
                count("wrong allocator refused");
            }

            void arena() {
                if (!openArenas.isEmpty() && rnd.nextBoolean()) {
                    int i = rnd.nextInt(openArenas.size());
                    if (rnd.nextBoolean()) {
                        arenaAllocate(i, 1 + rnd.nextInt(8));
                    } else {
                        closeArena(i);
                    }
                    return;
                }
                int a = pickAllocator();
                openArenas.add(allocators[a].newArena());
                arenaBlocks.add(new ArrayList<>());
                arenaAllocate(openArenas.size() - 1, 1 + rnd.nextInt(16));
                count("newArena");
                if (rnd.nextInt(4) > 0) {
                    closeArena(openArenas.size() - 1);
                }
            }

            void arenaAllocate(int i, int n) {
                Arena arena = openArenas.get(i);
                List<Block> blocks = arenaBlocks.get(i);
                int a = blocks.isEmpty() ? -1 : blocks.get(0).allocator;
                for (int k = 0; k < n; k++) {
                    long size = rnd.nextInt(10) == 0 ? randomSize(rnd) : rnd.nextLong(32, 2048) & -8;
                    MemorySegment segment = arena.allocate(size, 1L << rnd.nextInt(0, 8));
                    for (int o = 0; a < 0 && o < allocators.length; o++) {
                        a = allocators[o].owns(segment.address()) ? o : -1;
                    }
                    Block b = new Block(a, segment.address(), size, seqs.incrementAndGet(), "arena by " + tag());
                    b.segment = segment;
                    register(b);
                    write(b);
                    blocks.add(b);
                    count("arena allocate");
                }
                Allocator allocator = allocators[a];
                Block b = blocks.get(rnd.nextInt(blocks.size()));
                expectRefused("freeDelayed of an arena block", () -> allocator.freeDelayed(b.address));
                if (rnd.nextInt(4) == 0) {
                    blocks.remove(b);
                    check(b, "arena free");
                    unregister(b);
                    allocator.free(b.segment);
                    count("arena free(segment)");
                }
            }

            void closeArena(int i) {
                Arena arena = openArenas.remove(i);
                List<Block> blocks = arenaBlocks.remove(i);
                for (Block b : blocks) {
                    check(b, "arena close");
                    unregister(b);
                }
                arena.close();
                if (!blocks.isEmpty()) {
                    Block b = blocks.get(rnd.nextInt(blocks.size()));
                    expectRefused("free of a closed arena's segment", () -> allocators[b.allocator].free(b.segment));
                }
                count("arena close");
            }

            /** The thread's heap held in a hot loop, then perhaps released; the released heap must refuse. */
            void heapLoop() {
                int a = pickAllocator();
                Heap heap = allocators[a].heap();
                long[] temp = new long[1 + rnd.nextInt(32)];
                for (int round = 0; round < 4; round++) {
                    for (int k = 0; k < temp.length; k++) {
                        long size = rnd.nextLong(16, 1024);
                        try {
                            temp[k] = heap.malloc(size);
                        } catch (OutOfMemoryError e) {
                            for (int j = 0; j < k; j++) {
                                live[a].remove(temp[j]);
                                heap.free(temp[j]);
                            }
                            throw e;
                        }
                        Block b = new Block(a, temp[k], size & -8, k, "loop");
                        register(b);
                        view(temp[k], 8).set(ValueLayout.JAVA_LONG, 0, temp[k]);
                    }
                    for (long p : temp) {
                        if (view(p, 8).get(ValueLayout.JAVA_LONG, 0) != p) {
                            throw new AssertionError("heap loop block 0x" + Long.toHexString(p) + " overwritten");
                        }
                        live[a].remove(p);
                        heap.free(p);
                    }
                }
                count("heap loop");
                if (!isVirtual && rnd.nextInt(3) == 0) {
                    heap.release();
                    heap.release(); // idempotent
                    held[a] = null;
                    try {
                        long p = heap.malloc(64);
                        throw new AssertionError("a released heap handed out 0x" + Long.toHexString(p));
                    } catch (IllegalStateException expected) {
                        // the thread's next call through the allocator gets a new heap
                    }
                    count("heap release");
                }
            }

            void releaseAndGoOn() {
                int a = pickAllocator();
                allocators[a].releaseCurrentThread();
                if (reader != null && readerOf == a) {
                    reader = allocators[a].qsbrThread(); // the release took this thread out of the domain
                }
                Heap old = held[a];
                held[a] = null;
                if (old != null && !isVirtual) {
                    try {
                        long p = old.malloc(48);
                        throw new AssertionError("a heap released by releaseCurrentThread handed out 0x"
                                + Long.toHexString(p));
                    } catch (IllegalStateException expected) {
                        // ended
                    }
                }
                count("releaseCurrentThread");
            }

            /** Another platform thread's heap: it must refuse this thread (or say it has ended). */
            void stolenHeap() {
                Heap heap = published.get(rnd.nextInt(published.length()));
                if (heap == null) {
                    return;
                }
                for (int a = 0; a < allocators.length; a++) {
                    if (heap == held[a] || (!isVirtual && heap == allocators[a].heap())) {
                        return; // this thread's own
                    }
                }
                try {
                    long p = rnd.nextBoolean() ? heap.malloc(randomSize(rnd)) : heap.calloc(2, 40);
                    throw new AssertionError("another thread's heap handed out 0x" + Long.toHexString(p));
                } catch (WrongThreadException | IllegalStateException expected) {
                    count("stolen heap refused");
                }
            }

            /** A freed segment of allocate() read again: stale contents, never an unmapped page. */
            void staleRead() {
                if (stale.isEmpty()) {
                    return;
                }
                MemorySegment segment = stale.get(rnd.nextInt(stale.size()));
                long sum = 0;
                for (int i = 0; i < 8; i++) {
                    sum += segment.get(ValueLayout.JAVA_BYTE, rnd.nextLong(segment.byteSize()));
                }
                if (rnd.nextInt(4) == 0) {
                    stale.remove(segment);
                }
                count(sum == Long.MIN_VALUE ? "never" : "stale read");
            }

            /** free(MemorySegment) of what is not a block of this allocator: refused, nothing changed. */
            void segmentMisuse() {
                Block b = null;
                for (int i = 0; i < 4 && !mine.isEmpty(); i++) {
                    Block candidate = mine.get(rnd.nextInt(mine.size()));
                    if (candidate.segment != null) {
                        b = candidate;
                        break;
                    }
                }
                Allocator allocator = allocators[b == null ? 0 : b.allocator];
                if (b != null) {
                    MemorySegment segment = b.segment;
                    expectRefused("free of a slice", () -> allocator.free(segment.asSlice(16)));
                    check(b, "after a refused slice free");
                }
                expectRefused("free of a heap segment", () -> allocator.free(MemorySegment.ofArray(new byte[64])));
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment foreign = arena.allocate(64);
                    expectRefused("free of a JDK arena's segment", () -> allocator.free(foreign));
                }
                count("segment misuse refused");
            }

            /** realloc(p, 0), realloc(0, n). */
            void reallocEdges() {
                int a = pickAllocator();
                Allocator allocator = allocators[a];
                long p = allocator.realloc(0, rnd.nextLong(0, 300));
                Block b = new Block(a, p, 0, 0, "realloc(0, n)");
                register(b);
                unregister(b);
                long q;
                try {
                    q = allocator.realloc(p, 0);
                } catch (OutOfMemoryError e) { // p must be left live
                    allocator.free(p);
                    throw e;
                }
                if (q == 0 || allocator.usableSize(q) < 0) {
                    throw new AssertionError("realloc(p, 0) = " + q);
                }
                b = new Block(a, q, 0, 0, "realloc(p, 0)");
                register(b);
                unregister(b);
                allocator.free(q);
                count("realloc edges");
            }

            void tiny() {
                int a = pickAllocator();
                long size = rnd.nextInt(32);
                long p = allocators[a].malloc(size);
                long usable = allocators[a].usableSize(p);
                if (usable < size || usable < 1) {
                    throw new AssertionError("malloc(" + size + ") usable " + usable);
                }
                Block b = new Block(a, p, 0, 0, "tiny");
                register(b);
                view(p, usable).fill((byte) 0x3C);
                unregister(b);
                if (rnd.nextBoolean()) {
                    allocators[a].free(p);
                } else {
                    allocators[a].freeDelayed(p);
                }
                count("tiny");
            }
        }

        // ------------------------------------------------------------------------------------------ control

        final class Control implements Runnable {
            final SplittableRandom rnd;

            /** Whether this one pauses the others to validate (and holds QSBR readers). */
            final boolean pauses;

            Control(SplittableRandom rnd, boolean pauses) {
                this.rnd = rnd;
                this.pauses = pauses;
            }

            @Override
            public void run() {
                var readers = new ArrayList<dev.cairn.reclaim.QsbrThread>();
                try {
                    for (Allocator allocator : allocators) {
                        if (pauses) {
                            readers.add(allocator.qsbrThread());
                        }
                    }
                    long nextPause = System.nanoTime() + 1_000_000_000L;
                    while (!stop) {
                        int a = rnd.nextInt(allocators.length);
                        Allocator allocator = allocators[a];
                        if (!pauses) {
                            world.readLock().lock(); // paused with the workers
                        }
                        try {
                            switch (rnd.nextInt(8)) {
                                case 0 -> {
                                    allocator.collect(false);
                                    count("collect(false)");
                                }
                                case 1 -> {
                                    allocator.collect(true);
                                    count("collect(true)");
                                }
                                case 2 -> stats(allocator);
                                case 3 -> visit(allocator);
                                case 4 -> {
                                    Path path = dir.resolve("heap-" + a + ".cdump");
                                    allocator.dumpHeap(path, rnd.nextInt(4) == 0 ? DumpOptions.withContents()
                                            : DumpOptions.DEFAULT);
                                    assertTrue(Files.size(path) > 0);
                                    count("dumpHeap");
                                }
                                case 5 -> { // a heap of its own too (none on the virtual one), so collect has pages
                                    long size = randomSize(rnd);
                                    long p;
                                    try {
                                        p = allocator.malloc(size);
                                    } catch (OutOfMemoryError e) {
                                        if (a != 2) {
                                            throw e;
                                        }
                                        continue; // the commit limit
                                    }
                                    Block b = new Block(a, p, size, seqs.incrementAndGet(), "control");
                                    register(b);
                                    write(b);
                                    check(b, "control");
                                    unregister(b);
                                    allocator.free(b.address);
                                }
                                default -> sleep(1);
                            }
                        } finally {
                            if (!pauses) {
                                world.readLock().unlock();
                            }
                        }
                        if (!readers.isEmpty()) {
                            readers.get(rnd.nextInt(readers.size())).quiescent();
                        }
                        if (pauses && System.nanoTime() > nextPause) {
                            pause(readers);
                            nextPause = System.nanoTime() + 1_500_000_000L;
                        }
                    }
                } catch (Throwable t) {
                    failed(new AssertionError("control thread failed", t));
                } finally {
                    for (var reader : readers) {
                        reader.unregister();
                    }
                }
            }

            void stats(Allocator allocator) {
                AllocatorStats stats = allocator.stats();
                String json = stats.toJson();
                if (stats.blocksInUse() < 0 || stats.committedBytes() < 0 || stats.allocatedBytes() < 0
                        || stats.liveSegments() < 0 || stats.delayedFreesPending() < 0
                        || !json.startsWith("{") || !json.endsWith("]}")
                        || !json.contains("\"blocksInUse\":" + stats.blocksInUse() + ",")) {
                    throw new AssertionError("odd stats: " + json);
                }
                count("stats");
            }

            void visit(Allocator allocator) {
                long[] seen = new long[1];
                int limit = rnd.nextInt(4) == 0 ? 50 : Integer.MAX_VALUE;
                allocator.visitBlocks((address, usable, bin, heap) -> {
                    if (usable <= 0 || (address & 15) != 0 || bin < -1) {
                        throw new AssertionError("odd block 0x" + Long.toHexString(address) + " " + usable + " " + bin);
                    }
                    MemorySegment block = view(address, usable); // a visitor may read what it visits
                    block.get(ValueLayout.JAVA_LONG, 0);
                    block.get(ValueLayout.JAVA_LONG, (usable - 8) & -8);
                    return ++seen[0] < limit;
                });
                count("visitBlocks");
            }

            /** Everyone paused: validate, and every block the model holds must be live and walked. */
            void pause(List<dev.cairn.reclaim.QsbrThread> readers) {
                readers.forEach(dev.cairn.reclaim.QsbrThread::detach); // blocking: hold no writer back meanwhile
                world.writeLock().lock();
                readers.forEach(dev.cairn.reclaim.QsbrThread::attach);
                try {
                    for (int a = 0; a < allocators.length; a++) {
                        Allocator allocator = allocators[a];
                        allocator.validate();
                        Set<Long> walked = new HashSet<>();
                        allocator.visitBlocks((address, usable, bin, heap) -> walked.add(address) || true);
                        for (Block b : live[a].values()) {
                            if (!walked.contains(b.address) || !allocator.isLive(b.address)) {
                                throw new AssertionError("lost: " + b + " (walked " + walked.contains(b.address)
                                        + ", isLive " + allocator.isLive(b.address) + ")");
                            }
                            check(b, "pause");
                        }
                        AllocatorStats stats = allocator.stats();
                        if (stats.blocksInUse() < live[a].size()) {
                            throw new AssertionError("stats count " + stats.blocksInUse() + " blocks, the model holds "
                                    + live[a].size());
                        }
                    }
                    count("pause+validate");
                } finally {
                    world.writeLock().unlock();
                }
            }
        }
    }
}
