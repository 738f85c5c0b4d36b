package dev.cairn.bench.alloc;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.workload.SplitMix64;
import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Issue 4's memory target, measured at the allocator rather than at the process: larson with thread churn, and the
 * same replacements without churn, reporting the allocator's peak footprint against the peak live data.
 *
 * <p>The workload: {@code threads} slices of {@code slots} blocks of 8-1000 bytes; each slice is worked by
 * {@code generations} threads one after another, each doing {@code steps} replacements (free a random slot's block,
 * malloc a new one of random size, write its first and last byte) and then ending without releasing anything (the
 * next thread of the slice frees what it left). Without churn the same number of replacements is done by one thread
 * per slice. Live data is the sum of the requested sizes of the blocks in the slots, tracked exactly.
 *
 * <p>Footprint, per allocator, what it holds from the OS: Cairn's {@code AllocatorStats.peakCommittedBytes()}
 * (maintained by the allocator itself, so no peak is missed); mimalloc's {@code mi_process_info} peak commit;
 * glibc's {@code mallinfo2} {@code arena + hblkhd} (bytes obtained by sbrk/arenas plus mmapped blocks), which has no
 * peak of its own and is sampled every millisecond. The process RSS is not used: a JVM's RSS carries its heap,
 * JIT and thread stacks, which swamp 20 MiB of live data (see docs/benchmarks.md).
 *
 * <p>Time: each round's wall time, and the CPU time of its worker threads (each thread's own, read as it ends), so
 * that the churn overhead can be told from the wait for a new thread to be scheduled.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.cairn.bench.alloc.LarsonMemory
 *     [peer=cairn-checked|cairn-unchecked|glibc|mimalloc] [threads] [slots] [steps] [generations]
 *     [both|churn|steady] [rounds] [release]</pre>
 *
 * <p>{@code rounds} (default 24) alternate churn and no churn, each on a fresh allocator; the summary at the end gives
 * the medians of the second half, when the JIT has compiled the paths a new thread takes (see {@code main}).
 *
 * <p>{@code release}: after filling the slots the main thread calls {@code Allocator.releaseCurrentThread()} (Cairn
 * only), so its segments go to the abandoned pool where the workers adopt them. Without it the main thread's pages,
 * whose blocks the workers free, wait for a thread that never allocates again to collect them.
 *
 * <p>Footprints are reported above the allocator's footprint before the run (glibc's arenas also serve the JVM).
 * Cairn's allocators take the {@code -Dcairn.*} system properties ({@code AllocatorConfig.fromSystemProperties}),
 * for example {@code -Dcairn.segmentSize=4194304}; the peer name sets checked or unchecked.
 */
public final class LarsonMemory {

    private static final int MIN_SIZE = 8;
    private static final int MAX_SIZE = 1000;
    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private LarsonMemory() {
    }

    /** The allocator under test: malloc, free, and its footprint now and at its peak. */
    private interface Subject extends AutoCloseable {
        long malloc(long size);

        void free(long address);

        /** Bytes held from the OS now. */
        long footprint();

        /** The highest footprint the allocator itself recorded, or -1 when it keeps none (then samples count). */
        long peakFootprint();

        /** The calling thread is done allocating (Cairn: releases its heap); false where the peer has no such call. */
        default boolean releaseCurrentThread() {
            return false;
        }

        @Override
        void close();
    }

    public static void main(String[] args) throws Exception {
        String peer = args.length > 0 ? args[0] : "cairn-checked";
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int slots = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        long steps = args.length > 3 ? Long.parseLong(args[3]) : 50_000;
        int generations = args.length > 4 ? Integer.parseInt(args[4]) : 10;
        String mode = args.length > 5 ? args[5] : "both";
        System.out.printf("larson memory: peer %s, %d threads x %d slots of %d-%d B, %d steps x %d generations%n",
                peer, threads, slots, MIN_SIZE, MAX_SIZE, steps, generations);
        int rounds = args.length > 6 ? Integer.parseInt(args[6]) : 24;
        boolean release = args.length > 7 && args[7].equals("release");
        // Rounds alternate the modes, each on a fresh allocator. The first rounds run while the JIT is still
        // compiling: a thread's first-time paths (a new heap, reaping its predecessor, adopting its segment, each size
        // class's first slow path) run once per thread, about twenty times a round, so they take about ten rounds to
        // reach C2. The summary reads the second half of the rounds only.
        List<double[]> churnRounds = new ArrayList<>();
        List<double[]> steadyRounds = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (boolean churn : new boolean[] {true, false}) {
                if (mode.equals(churn ? "steady" : "churn")) {
                    continue; // mimalloc's peak is per process: run each mode in a process of its own
                }
                try (Subject subject = subject(peer)) {
                    System.out.print("  round " + round);
                    double[] result = run(subject, churn, threads, slots, churn ? steps : steps * generations,
                            churn ? generations : 1, release);
                    if (round > rounds / 2) {
                        (churn ? churnRounds : steadyRounds).add(result);
                    }
                }
            }
        }
        summarize(rounds, churnRounds, steadyRounds, peer.startsWith("cairn"));
    }

    /** Prints the medians of the warm rounds (the second half) and, with both modes run, churn's time ratio. */
    private static void summarize(int rounds, List<double[]> churnRounds, List<double[]> steadyRounds,
            boolean perRound) {
        if (churnRounds.isEmpty() && steadyRounds.isEmpty()) {
            return;
        }
        // glibc and mimalloc keep what they took for the life of the process: their footprint is round 1's.
        System.out.printf("summary of rounds %d-%d (median ms%s):%n", rounds / 2 + 1, rounds,
                perRound ? "; peak footprint / peak live, lowest-highest" : "; footprint: see round 1");
        double churnMedian = printSummary("churn", churnRounds, perRound);
        double steadyMedian = printSummary("no churn", steadyRounds, perRound);
        if (!churnRounds.isEmpty() && !steadyRounds.isEmpty()) {
            System.out.printf("  churn / no churn: %.2fx (workers' CPU time: %.2fx)%n", churnMedian / steadyMedian,
                    median(churnRounds, 2) / median(steadyRounds, 2));
        }
    }

    private static double median(List<double[]> results, int field) {
        double[] values = results.stream().mapToDouble(r -> r[field]).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static double printSummary(String label, List<double[]> results, boolean ratios) {
        if (results.isEmpty()) {
            return Double.NaN;
        }
        double[] times = results.stream().mapToDouble(r -> r[0]).sorted().toArray();
        double[] footprints = results.stream().mapToDouble(r -> r[1]).sorted().toArray();
        int n = times.length;
        double median = median(results, 0);
        System.out.printf("  %-9s %8.1f ms (%d rounds, %.1f-%.1f)%s  workers' CPU %.1f ms%n", label, median, n,
                times[0], times[n - 1], ratios ? String.format("  ratio %.2f-%.2f", footprints[0],
                        footprints[n - 1]) : "", median(results, 2));
        return median;
    }

    /**
     * One round: returns its time (ms), its peak footprint over peak live data, and the CPU time its workers used
     * (ms): on a machine with few cores, the time a churn round loses also counts threads waiting to be scheduled
     * as one generation hands over to the next, which the CPU time leaves out.
     */
    private static double[] run(Subject subject, boolean churn, int threads, int slots, long steps, int generations,
            boolean release) throws InterruptedException {
        long baseline = subject.footprint();
        Slice[] slices = new Slice[threads];
        for (int t = 0; t < threads; t++) {
            slices[t] = new Slice(subject, slots, new SplitMix64(0x1A450L + t));
        }
        // The main thread filled every slot and now only waits: the workers' frees of its blocks land on its pages'
        // cross-thread lists, which only it collects. With "release" it says it is done allocating first.
        boolean released = release && subject.releaseCurrentThread();
        AtomicLong peakLive = new AtomicLong(liveBytes(slices));
        AtomicLong peakSampled = new AtomicLong(subject.footprint());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        // Cairn and mimalloc keep their own peak; sampling their footprint would only disturb the run (Cairn's
        // stats() walks every page descriptor, pulling lines the workers write).
        boolean sampleFootprint = subject.peakFootprint() < 0;
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peakLive.accumulateAndGet(liveBytes(slices), Math::max);
                if (sampleFootprint) {
                    peakSampled.accumulateAndGet(subject.footprint(), Math::max);
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        AtomicLong workerCpu = new AtomicLong();
        long start = System.nanoTime();
        List<Thread> workers = new ArrayList<>();
        for (Slice slice : slices) {
            workers.add(Thread.ofPlatform().start(() -> {
                for (int g = 0; g < generations && failure.get() == null; g++) {
                    Thread worker = Thread.ofPlatform().start(() -> {
                        try {
                            slice.replace(steps);
                            workerCpu.addAndGet(THREADS.getCurrentThreadCpuTime()); // the thread's, from its start
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    });
                    try {
                        worker.join(); // the worker ends without releasing its heap: churn
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        long elapsed = System.nanoTime() - start;
        sampler.interrupt();
        sampler.join();
        if (failure.get() != null) {
            throw new IllegalStateException("a worker failed", failure.get());
        }
        peakLive.accumulateAndGet(liveBytes(slices), Math::max);
        long peak = (subject.peakFootprint() >= 0 ? subject.peakFootprint() : peakSampled.get()) - baseline;
        System.out.printf(" %-9s %8.1f ms  peak live %6.1f MiB  peak footprint %6.1f MiB  ratio %.2f  CPU %.1f ms%s%n",
                churn ? "churn" : "no churn", elapsed / 1e6, mib(peakLive.get()), mib(peak),
                peak / (double) peakLive.get(), workerCpu.get() / 1e6,
                (subject.peakFootprint() >= 0 ? "" : " (sampled every ms)")
                        + (released ? " (main released its heap after the fill)" : ""));
        for (Slice slice : slices) {
            slice.freeAll();
        }
        return new double[] {elapsed / 1e6, peak / (double) peakLive.get(), workerCpu.get() / 1e6};
    }

    private static long liveBytes(Slice[] slices) {
        long sum = 0;
        for (Slice slice : slices) {
            sum += slice.live;
        }
        return sum;
    }

    private static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }

    /** One slice of slots, worked by one thread at a time (thread start and join order the hand-overs). */
    private static final class Slice {
        private final Subject subject;
        private final long[] blocks;
        private final int[] sizes;
        private final SplitMix64 random;
        /** Sum of the slots' requested sizes; published for the sampler, which may read a slightly old value. */
        volatile long live;

        Slice(Subject subject, int slots, SplitMix64 random) {
            this.subject = subject;
            this.blocks = new long[slots];
            this.sizes = new int[slots];
            this.random = random;
            long sum = 0;
            for (int i = 0; i < slots; i++) {
                sizes[i] = size();
                blocks[i] = filled(sizes[i]);
                sum += sizes[i];
            }
            live = sum;
        }

        private int size() {
            return MIN_SIZE + (int) ((random.next() >>> 1) % (MAX_SIZE - MIN_SIZE + 1));
        }

        private long filled(int size) {
            long block = subject.malloc(size);
            Raw.putByte(block, (byte) size);
            Raw.putByte(block + size - 1, (byte) size);
            return block;
        }

        void replace(long steps) {
            long sum = live;
            for (long s = 0; s < steps; s++) {
                int slot = (int) ((random.next() >>> 1) % blocks.length);
                long block = blocks[slot];
                int old = sizes[slot];
                if (Raw.getByte(block) != (byte) old || Raw.getByte(block + old - 1) != (byte) old) {
                    throw new IllegalStateException("block " + Long.toHexString(block) + " was overwritten");
                }
                subject.free(block);
                int size = size();
                blocks[slot] = filled(size);
                sizes[slot] = size;
                sum += size - old;
                if ((s & 1023) == 0) {
                    live = sum;
                }
            }
            live = sum;
        }

        void freeAll() {
            for (long block : blocks) {
                subject.free(block);
            }
            live = 0;
        }
    }

    // ------------------------------------------------------------------------------------------------ subjects

    private static Subject subject(String peer) {
        return switch (peer) {
            case "cairn-checked" -> cairn(true);
            case "cairn-unchecked" -> cairn(false);
            case "glibc" -> glibc();
            case "mimalloc" -> mimalloc();
            default -> throw new IllegalArgumentException(
                    "unknown peer " + peer + " (cairn-checked, cairn-unchecked, glibc, mimalloc)");
        };
    }

    private static Subject cairn(boolean checked) {
        // -Dcairn.* properties apply (segment size, purge delay...); the peer name sets the mode
        Allocator allocator = Allocator.create(
                AllocatorConfig.fromSystemProperties().toBuilder().checked(checked).build());
        return new Subject() {
            @Override
            public long malloc(long size) {
                return allocator.malloc(size);
            }

            @Override
            public void free(long address) {
                allocator.free(address);
            }

            @Override
            public long footprint() {
                return allocator.stats().committedBytes();
            }

            @Override
            public long peakFootprint() {
                return allocator.stats().peakCommittedBytes();
            }

            @Override
            public boolean releaseCurrentThread() {
                allocator.releaseCurrentThread();
                return true;
            }

            @Override
            public void close() {
                allocator.close();
            }
        };
    }

    private static final Linker LINKER = Linker.nativeLinker();

    private static MethodHandle downcall(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(lookup.find(name).orElseThrow(
                () -> new IllegalStateException("no symbol " + name)), descriptor);
    }

    /** malloc/free by address, through FFM downcalls. */
    private abstract static class Native implements Subject {
        private final MethodHandle malloc;
        private final MethodHandle free;

        Native(SymbolLookup lookup, String malloc, String free) {
            this.malloc = downcall(lookup, malloc, FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            this.free = downcall(lookup, free, FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG));
        }

        @Override
        public long malloc(long size) {
            try {
                return (long) malloc.invokeExact(size);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        @Override
        public void free(long address) {
            try {
                free.invokeExact(address);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        @Override
        public void close() {
        }
    }

    private static Subject glibc() {
        SymbolLookup libc = LINKER.defaultLookup();
        // struct mallinfo2: ten size_t fields; arena (0) and hblkhd (4) are what glibc holds from the OS
        java.lang.foreign.MemoryLayout[] fields = new java.lang.foreign.MemoryLayout[10];
        java.util.Arrays.fill(fields, ValueLayout.JAVA_LONG);
        MethodHandle mallinfo2 = downcall(libc, "mallinfo2", FunctionDescriptor.of(
                java.lang.foreign.MemoryLayout.structLayout(fields)));
        return new Native(libc, "malloc", "free") {
            @Override
            public long footprint() {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment info =
                            (MemorySegment) mallinfo2.invokeExact((java.lang.foreign.SegmentAllocator) arena);
                    return info.getAtIndex(ValueLayout.JAVA_LONG, 0) + info.getAtIndex(ValueLayout.JAVA_LONG, 4);
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            }

            @Override
            public long peakFootprint() {
                return -1;
            }
        };
    }

    private static Subject mimalloc() {
        SymbolLookup lib = SymbolLookup.libraryLookup(Peers.MIMALLOC_LIBRARY, Arena.global());
        // mi_process_info(elapsed, user, system, current_rss, peak_rss, current_commit, peak_commit, page_faults)
        MethodHandle info = downcall(lib, "mi_process_info", FunctionDescriptor.ofVoid(
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        return new Native(lib, "mi_malloc", "mi_free") {
            private long commit(int which) {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG, 8);
                    MemorySegment[] p = new MemorySegment[8];
                    for (int i = 0; i < 8; i++) {
                        p[i] = out.asSlice(8L * i, 8);
                    }
                    info.invokeExact(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
                    return out.getAtIndex(ValueLayout.JAVA_LONG, which);
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            }

            @Override
            public long footprint() {
                return commit(5);
            }

            @Override
            public long peakFootprint() {
                return commit(6);
            }
        };
    }
}
