package dev.cairn.tools.heapdump;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.DumpOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real dumps for the tool's tests, made by the allocator: several size classes, a huge block, local and
 * cross-thread frees (some still uncollected), strict site sampling, and block contents on request.
 */
public final class DumpFixtures {

    private DumpFixtures() {
    }

    /** A strictly sampled allocator (every allocation recorded). */
    public static Allocator sampledAllocator() {
        return Allocator.create(AllocatorConfig.builder().strictSampling().build());
    }

    /** Fills {@code allocator} with the standard mix; returns the live blocks. */
    public static List<Long> populate(Allocator allocator) throws InterruptedException {
        List<Long> live = new ArrayList<>();
        List<Long> toFreeRemotely = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            long size = switch (i % 5) {
                case 0 -> 24;
                case 1 -> 100;
                case 2 -> 1000;
                case 3 -> 20_000;
                default -> 48;
            };
            long p = allocateSmall(allocator, size);
            fill(p, size, i);
            if (i % 7 == 3) {
                allocator.free(p);
            } else if (i % 11 == 5) {
                toFreeRemotely.add(p);
            } else {
                live.add(p);
            }
        }
        long huge = allocateHuge(allocator, 3 << 20);
        fill(huge, 64, 99);
        live.add(huge);
        Thread remote = new Thread(() -> toFreeRemotely.forEach(allocator::free), "remote-freer");
        remote.start();
        remote.join();
        return live;
    }

    /** Two distinct call sites, so site tables have something to rank. */
    static long allocateSmall(Allocator allocator, long size) {
        return allocator.malloc(size);
    }

    static long allocateHuge(Allocator allocator, long size) {
        return allocator.malloc(size);
    }

    /** Writes {@code seed}-derived bytes, so contents can be checked. */
    @SuppressWarnings("restricted")
    public static void fill(long address, long size, int seed) {
        MemorySegment block = MemorySegment.ofAddress(address).reinterpret(size);
        for (long i = 0; i < size; i++) {
            block.set(ValueLayout.JAVA_BYTE, i, pattern(seed, i));
        }
    }

    public static byte pattern(int seed, long i) {
        return (byte) (seed * 31 + i * 7);
    }

    /**
     * A small dump with every section filled (sampling, contents, a cross-thread free, a retired page), quick to
     * mutate and re-read thousands of times.
     */
    public static Path smallDump(Path dir, String name) throws InterruptedException {
        Path path = dir.resolve(name);
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().strictSampling()
                .purgeDelay(java.time.Duration.ofHours(1)).build())) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                long size = i % 3 == 0 ? 40 : i % 3 == 1 ? 200 : 3000;
                long p = allocateSmall(allocator, size);
                fill(p, Math.min(size, 64), i);
                blocks.add(p);
            }
            for (int i = 0; i < blocks.size(); i += 4) {
                allocator.free(blocks.get(i));
            }
            long other = allocator.malloc(4000);
            Thread remote = new Thread(() -> allocator.free(blocks.get(1)));
            remote.start();
            remote.join();
            allocator.free(other);
            allocator.dumpHeap(path, DumpOptions.withContents());
        }
        return path;
    }

    /** A dump of the standard mix. */
    public static Path standardDump(Path dir, String name, boolean contents) throws InterruptedException {
        Path path = dir.resolve(name);
        try (Allocator allocator = sampledAllocator()) {
            populate(allocator);
            allocator.dumpHeap(path, contents ? DumpOptions.withContents() : DumpOptions.DEFAULT);
        }
        return path;
    }
}
