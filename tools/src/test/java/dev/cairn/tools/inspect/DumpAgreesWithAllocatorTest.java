package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.AllocatorStats;
import dev.cairn.alloc.DumpOptions;
import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.PageInfo;
import dev.cairn.tools.heapdump.Sample;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random allocator states (small, medium, large, huge and aligned blocks; local, remote and delayed frees; arenas
 * left open; threads that release their heap, end unreaped or end and are reaped; virtual threads; collects), each
 * dumped at a quiet moment and held against {@code stats()} and {@code visitBlocks} taken at the same moment: the
 * live blocks, their sizes and heaps (the page's own, with or without the page pool), the STATS section, segments, the abandoned pool, pending delayed frees, strict
 * samples, and every command of the tool (validate finds nothing). The seed is printed; rerun one with
 * {@code -Dcairn.agree.seed=N}, run longer with {@code -Dcairn.agree.rounds=N}.
 */
class DumpAgreesWithAllocatorTest {

    private static final String[][] COMMANDS = {{"summary"}, {"bins"}, {"segments"}, {"threads"}, {"validate"},
        {"sites"}, {"objects"}, {"blocks", "--bin", "-1", "--contents"}, {"html", "-o", "/dev/null"}, {"--json"}};

    @TempDir
    Path dir;

    @Test
    void randomQuietStates() throws Exception {
        long seed = Long.getLong("cairn.agree.seed", System.nanoTime());
        System.out.println("DumpAgreesWithAllocatorTest seed " + seed + " (rerun with -Dcairn.agree.seed=" + seed
                + ")");
        SplittableRandom random = new SplittableRandom(seed);
        for (int round = 0, rounds = Integer.getInteger("cairn.agree.rounds", 2); round < rounds; round++) {
            boolean checked = random.nextInt(4) != 0;
            try (Allocator allocator = Allocator.create(AllocatorConfig.builder().strictSampling().checked(checked)
                    .pagePool(random.nextBoolean())
                    .purgeDelay(java.time.Duration.ofMillis(random.nextInt(3) == 0 ? 0 : 100_000)).build())) {
                List<Arena> arenas = new ArrayList<>();
                List<Long> live = new ArrayList<>();
                for (int step = 0; step < 12; step++) {
                    act(allocator, random.split(), live, arenas);
                    if (random.nextInt(3) == 0) {
                        Path path = dir.resolve("r" + round + "s" + step + ".cdump");
                        agree(allocator, checked, path, random.nextBoolean());
                    }
                }
                agree(allocator, checked, dir.resolve("r" + round + ".cdump"), true);
                arenas.forEach(Arena::close);
            }
        }
    }

    private static long size(SplittableRandom random) {
        return switch (random.nextInt(10)) {
            case 0 -> random.nextLong(40_000, 600_000); // medium and large pages
            case 1 -> random.nextLong(2 << 20, 9 << 20); // huge
            default -> random.nextLong(0, 3000);
        };
    }

    private static void act(Allocator allocator, SplittableRandom random, List<Long> live, List<Arena> arenas)
            throws Exception {
        switch (random.nextInt(9)) {
            case 0, 1 -> {
                for (int i = random.nextInt(200); i > 0; i--) {
                    live.add(allocator.malloc(size(random)));
                }
            }
            case 2 -> {
                for (int i = random.nextInt(20); i > 0; i--) {
                    live.add(allocator.mallocAligned(size(random), 1L << random.nextInt(4, 22)));
                }
            }
            case 3 -> { // frees, some delayed
                for (int i = random.nextInt(live.size() + 1); i > 0 && !live.isEmpty(); i--) {
                    long p = live.remove(random.nextInt(live.size()));
                    if (random.nextInt(4) == 0) {
                        allocator.freeDelayed(p);
                    } else {
                        allocator.free(p);
                    }
                }
            }
            case 4 -> { // remote frees, by a platform or a virtual thread
                List<Long> gone = new ArrayList<>();
                for (int i = random.nextInt(live.size() + 1); i > 0 && !live.isEmpty(); i--) {
                    gone.add(live.remove(random.nextInt(live.size())));
                }
                Runnable free = () -> gone.forEach(allocator::free);
                (random.nextBoolean() ? Thread.ofVirtual() : Thread.ofPlatform()).start(free).join();
            }
            case 5 -> { // another thread allocates, then releases its heap, ends, or allocates virtually
                int how = random.nextInt(3);
                long seed = random.nextLong();
                List<Long> made = new ArrayList<>();
                Runnable work = () -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    for (int i = r.nextInt(300); i > 0; i--) {
                        made.add(allocator.malloc(size(r)));
                    }
                    if (how == 0) {
                        allocator.releaseCurrentThread();
                    }
                };
                (how == 2 ? Thread.ofVirtual() : Thread.ofPlatform()).start(work).join();
                live.addAll(made);
            }
            case 6 -> { // an arena of this thread, left open or closed
                Arena arena = allocator.newArena();
                for (int i = random.nextInt(50); i > 0; i--) {
                    arena.allocate(size(random));
                }
                if (random.nextBoolean()) {
                    arena.close();
                } else {
                    arenas.add(arena);
                }
            }
            case 7 -> allocator.collect(random.nextBoolean());
            default -> { // reallocs
                for (int i = Math.min(random.nextInt(20), live.size()); i > 0; i--) {
                    int at = random.nextInt(live.size());
                    live.set(at, allocator.realloc(live.get(at), size(random)));
                }
            }
        }
    }

    private static void agree(Allocator allocator, boolean checked, Path path, boolean contents) throws Exception {
        AllocatorStats stats = allocator.stats();
        Map<Long, long[]> blocks = new HashMap<>(); // address -> {usable size, bin, heap}
        allocator.visitBlocks((address, usable, bin, heap) -> {
            blocks.put(address, new long[] {usable, bin, heap});
            return true;
        });
        allocator.dumpHeap(path, contents ? DumpOptions.withContents() : DumpOptions.DEFAULT);
        assertEquals(stats, allocator.stats(), "a dump changes nothing");
        try (HeapDump dump = HeapDump.open(path)) {
            long[] s = dump.stats();
            assertArrayEquals(new long[] {stats.reservedBytes(), stats.peakReservedBytes(), stats.committedBytes(),
                stats.peakCommittedBytes(), stats.purgedBytes(), stats.allocatedBytes(), stats.blocksInUse(),
                stats.pages(), stats.remoteFrees(), stats.slowPathCalls(), stats.liveSegments(),
                stats.cachedSegments(), stats.heapsLive()}, s);
            assertEquals(stats.liveSegments(), dump.segments().size());
            assertEquals(stats.pages(), dump.pages().size());
            assertEquals(stats.abandonedSegments(), dump.abandonedPool().length);
            assertEquals(stats.heapsLive(), dump.heaps().size());
            if (checked) {
                assertEquals(stats.delayedFreesPending(), dump.delayedFrees().length);
            }
            Map<Long, long[]> found = new HashMap<>();
            long used = 0;
            long usedBytes = 0;
            for (PageInfo page : dump.pages()) {
                used += page.used();
                usedBytes += page.used() * page.blockSize();
                for (int i = 0; i < page.capacity(); i++) {
                    if (dump.isLive(page, i)) {
                        found.put(page.start() + i * page.blockSize(),
                                new long[] {page.blockSize(), page.bin(), page.ownerHeap()});
                        if (contents) {
                            assertEquals(page.blockSize(), dump.contents(page.start() + i * page.blockSize())
                                    .byteSize());
                        }
                    }
                }
            }
            assertEquals(stats.blocksInUse(), used);
            assertEquals(stats.allocatedBytes(), usedBytes);
            assertEquals(blocks.keySet(), found.keySet(), "live blocks");
            blocks.forEach((address, expected) -> assertArrayEquals(expected, found.get(address),
                    "size, bin and heap of 0x" + Long.toHexString(address)));
            Set<Long> sampled = new HashSet<>();
            for (Sample sample : dump.samples()) {
                assertTrue(blocks.containsKey(sample.address()), "sample of a dead block 0x"
                        + Long.toHexString(sample.address()));
                sampled.add(sample.address());
            }
        }
        for (String[] command : COMMANDS) {
            List<String> args = new ArrayList<>(List.of(path.toString()));
            args.addAll(List.of(command));
            Cli cli = Cli.run(args.toArray(String[]::new));
            assertEquals(0, cli.code(), String.join(" ", command) + ": " + cli);
            assertEquals("", cli.err());
        }
        Cli summary = Cli.run(path.toString(), "--json");
        assertEquals(stats.committedBytes(), JsonCheck.firstLong(summary.out(), "committed")
                + JsonCheck.firstLong(summary.out(), "segmentCache"), summary.out());
        assertEquals(stats.blocksInUse(), JsonCheck.firstLong(summary.out(), "blocksInUse")
                + JsonCheck.firstLong(summary.out(), "pendingRemoteFrees"), summary.out());
    }
}
