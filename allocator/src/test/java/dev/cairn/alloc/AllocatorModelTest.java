package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random operation sequences checked against a model of the live blocks (address -> size, contents seeded by the
 * address). Fixed seeds plus one fresh seed per run; a failure names its seed, and {@code -Dcairn.alloc.seed=N}
 * replays one.
 */
class AllocatorModelTest {

    static Stream<Long> seeds() {
        String fixed = System.getProperty("cairn.alloc.seed");
        if (fixed != null) {
            return Stream.of(Long.parseLong(fixed));
        }
        return Stream.concat(LongStream.of(1, 2, 3, 42, 2026).boxed(), Stream.of(System.nanoTime()));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomOperationsMatchTheModel(long seed) {
        try {
            run(seed);
        } catch (Throwable e) {
            throw new AssertionError("model test failed with seed " + seed + " (replay: -Dcairn.alloc.seed=" + seed
                    + ")", e);
        }
    }

    private static void run(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        boolean checked = random.nextInt(4) != 0;
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().checked(checked)
                .purgeDelay(java.time.Duration.ofMillis(random.nextInt(3))).build())) {
            TreeMap<Long, Long> model = new TreeMap<>();
            List<Long> addresses = new ArrayList<>();
            for (int step = 0; step < 20_000; step++) {
                int op = random.nextInt(100);
                if (op < 45 || model.isEmpty()) {
                    long size = randomSize(random);
                    long p = op % 7 == 0 ? allocator.calloc(1, size) : allocator.malloc(size);
                    if (op % 7 == 0) {
                        assertEquals(-1, Blocks.view(p, size)
                                .mismatch(java.lang.foreign.MemorySegment.ofArray(new byte[(int) size])), "zeroed");
                    }
                    add(model, addresses, p, size);
                } else if (op < 80) {
                    long p = addresses.remove(random.nextInt(addresses.size()));
                    long size = model.remove(p);
                    Blocks.check(p, size, p);
                    allocator.free(p);
                } else if (op < 90) {
                    int index = random.nextInt(addresses.size());
                    long p = addresses.get(index);
                    long size = model.get(p);
                    long newSize = randomSize(random);
                    long q = allocator.realloc(p, newSize);
                    Blocks.check(q, Math.min(size, newSize), p);
                    model.remove(p);
                    addresses.set(index, addresses.get(addresses.size() - 1));
                    addresses.remove(addresses.size() - 1);
                    add(model, addresses, q, newSize);
                } else if (op < 95) {
                    long alignment = 1L << random.nextInt(17);
                    long size = randomSize(random);
                    long p = allocator.mallocAligned(size, alignment);
                    assertEquals(0, p % alignment);
                    add(model, addresses, p, size);
                } else if (op < 98 && checked) {
                    long p = addresses.get(random.nextInt(addresses.size()));
                    long interior = p + 1 + random.nextLong(allocator.usableSize(p) - 1);
                    assertThrows(IllegalArgumentException.class, () -> allocator.free(interior));
                } else {
                    verify(allocator, model);
                }
            }
            verify(allocator, model);
            for (long p : addresses) {
                Blocks.check(p, model.get(p), p);
                allocator.free(p);
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    private static long randomSize(SplittableRandom random) {
        int kind = random.nextInt(100);
        if (kind < 70) {
            return random.nextInt(1025);
        }
        if (kind < 95) {
            return random.nextInt(70_000);
        }
        return kind < 99 ? random.nextInt(600_000) : random.nextInt(3 << 20);
    }

    private static void add(TreeMap<Long, Long> model, List<Long> addresses, long p, long size) {
        Map.Entry<Long, Long> below = model.floorEntry(p);
        if (below != null) {
            assertTrue(below.getKey() + Math.max(below.getValue(), 1) <= p, "overlaps the block below");
        }
        Map.Entry<Long, Long> above = model.ceilingEntry(p);
        if (above != null) {
            assertTrue(p + Math.max(size, 1) <= above.getKey(), "overlaps the block above");
        }
        Blocks.fill(p, size, p);
        model.put(p, size);
        addresses.add(p);
    }

    private static void verify(Allocator allocator, TreeMap<Long, Long> model) {
        allocator.validate();
        Map<Long, Long> seen = new HashMap<>();
        allocator.visitBlocks((address, usable, bin, heap) -> {
            seen.put(address, usable);
            return true;
        });
        assertEquals(model.keySet(), seen.keySet());
        model.forEach((p, size) -> assertTrue(seen.get(p) >= size && allocator.usableSize(p) == seen.get(p)));
        assertEquals(model.size(), allocator.stats().blocksInUse());
    }
}
