package dev.cairn.radix;

import static dev.cairn.radix.AddressMap.NOT_OURS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.radix.internal.RadixLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random inserts and removes, good and bad, checked after every step against a model: a {@link TreeMap} from granule
 * key to value. Each seed picks its own granule shift. A failure names its seed; replay it with
 * {@code scripts/test -pl radix-tree -Dcairn.radix.seed=<seed> -Dtest=AddressMapModelTest}.
 */
class AddressMapModelTest {

    private static final int STEPS = 10_000;
    private static final int[] SHIFTS = {16, 22, 25, 28, 30};

    static LongStream seeds() {
        String replay = System.getProperty("cairn.radix.seed");
        if (replay != null) {
            return LongStream.of(Long.parseLong(replay));
        }
        return LongStream.concat(LongStream.of(1, 2, 3, 4, 5, 42, 0xC0FFEE),
                LongStream.of(System.nanoTime())); // one fresh seed per run, printed when it fails
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void behavesLikeTheModel(long seed) {
        try {
            new Run(seed).run();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("model test failed for seed " + seed + " (replay with -Dcairn.radix.seed="
                    + seed + "): " + e.getMessage(), e);
        }
    }

    /** One randomized run: the map, its model, and the random source. */
    private static final class Run {
        private final SplittableRandom random;
        private final RadixLayout layout;
        private final AddressMap map;
        private final NavigableMap<Long, Long> model = new TreeMap<>();
        /** Leaf spans (key >>> leafBits) that have held a key: their leaves stay allocated once emptied. */
        private final java.util.Set<Long> spansUsed = new java.util.HashSet<>();
        private final List<long[]> inserted = new ArrayList<>(); // {firstKey, granules} of successful inserts
        private final long[] centers; // keys the generated ranges cluster around
        private final long maxKey;

        Run(long seed) {
            random = new SplittableRandom(seed);
            layout = RadixLayout.forGranuleShift(SHIFTS[random.nextInt(SHIFTS.length)]);
            map = AddressMap.create(layout.granuleShift());
            maxKey = 1L << layout.keyBits(); // exclusive
            long leaf = layout.leafLength();
            centers = new long[] {1, leaf, 3 * leaf, 7 * leaf + leaf / 2, maxKey - leaf, maxKey - 1};
        }

        void run() {
            for (int step = 0; step < STEPS; step++) {
                int op = random.nextInt(100);
                if (op < 45) {
                    insertRandom();
                } else if (op < 65) {
                    removeInserted();
                } else if (op < 80) {
                    removeRandom();
                } else if (op < 88) {
                    replaceRandom();
                } else {
                    rejectMalformed();
                }
                checkCounters();
                probe(8);
                if (step % 500 == 0) {
                    checkEverything();
                }
            }
            checkEverything();
            for (long[] range : new ArrayList<>(inserted)) {
                removeIfOneRange(range[0], range[1]);
            }
            for (Long key; (key = firstKey()) != null; ) { // whatever survives as pieces of split ranges
                long value = model.get(key);
                long end = key;
                while (model.containsKey(end) && model.get(end) == value) {
                    end++;
                }
                assertEquals(value, map.remove(key << layout.granuleShift(), (end - key) << layout.granuleShift()));
                model.subMap(key, end).clear();
            }
            assertEquals(0, map.mappedGranules());
            assertEquals(spansUsed.size(), map.leafCount()); // emptied leaves stay
            assertEquals(layout.rootBytes() + layout.leafCountersBytes() + layout.windowBytes()
                    + spansUsed.size() * layout.leafBytes(), map.memoryBytes());
            map.validate();
        }

        private Long firstKey() {
            return model.isEmpty() ? null : model.firstKey();
        }

        private long randomKeyCount() {
            int kind = random.nextInt(20);
            if (kind == 0) {
                return 1 + random.nextLong(3L * layout.leafLength()); // spans whole leaves
            }
            return kind < 10 ? 1 : 1 + random.nextInt(16);
        }

        private long randomFirstKey(long granules) {
            long center = centers[random.nextInt(centers.length)];
            long key = center + random.nextLong(-40, 40);
            return Math.max(1, Math.min(key, maxKey - granules));
        }

        private void insertRandom() {
            long n = randomKeyCount();
            long first = randomFirstKey(n);
            long value = random.nextInt(4) == 0 ? 7 : random.nextLong() | 1; // a shared value now and then
            boolean clash = !model.subMap(first, first + n).isEmpty();
            try {
                map.insert(first << layout.granuleShift(), n << layout.granuleShift(), value);
                if (clash) {
                    fail("insert of keys [" + first + ", " + (first + n) + ") should have clashed");
                }
                for (long k = first; k < first + n; k++) {
                    model.put(k, value);
                    spansUsed.add(k >>> layout.leafBits());
                }
                inserted.add(new long[] {first, n});
            } catch (IllegalStateException e) {
                if (!clash) {
                    throw e;
                }
            }
        }

        private void removeInserted() {
            if (inserted.isEmpty()) {
                return;
            }
            long[] range = inserted.remove(random.nextInt(inserted.size()));
            long first = range[0];
            long n = range[1];
            if (random.nextInt(4) == 0 && n > 1) { // a piece of it
                long skip = random.nextLong(n);
                first += skip;
                n = 1 + random.nextLong(n - skip);
            }
            removeIfOneRange(first, n);
        }

        private void removeRandom() {
            long n = randomKeyCount();
            removeIfOneRange(randomFirstKey(n), n);
        }

        /** Removes keys [first, first + n) and expects success exactly when the model maps all of them to one value. */
        private void removeIfOneRange(long first, long n) {
            Long value = model.get(first);
            boolean ok = value != null && LongStream.range(first, first + n).allMatch(k -> value.equals(model.get(k)));
            try {
                long removed = map.remove(first << layout.granuleShift(), n << layout.granuleShift());
                if (!ok) {
                    fail("remove of keys [" + first + ", " + (first + n) + ") should have been refused");
                }
                assertEquals((long) value, removed);
                model.subMap(first, first + n).clear();
            } catch (IllegalStateException e) {
                if (ok) {
                    throw e;
                }
            }
        }

        /**
         * Replaces the value of keys [first, first + n), a piece of an inserted range or random keys, and expects
         * success exactly when the model maps all of them to one value.
         */
        private void replaceRandom() {
            long first;
            long n;
            if (!inserted.isEmpty() && random.nextBoolean()) {
                long[] range = inserted.get(random.nextInt(inserted.size()));
                first = range[0];
                n = range[1];
            } else {
                n = randomKeyCount();
                first = randomFirstKey(n);
            }
            Long old = model.get(first);
            boolean ok = old != null && LongStream.range(first, first + n).allMatch(k -> old.equals(model.get(k)));
            long value = 1 + random.nextLong(Long.MAX_VALUE);
            try {
                long replaced = map.replace(first << layout.granuleShift(), n << layout.granuleShift(), value);
                if (!ok) {
                    fail("replace of keys [" + first + ", " + (first + n) + ") should have been refused");
                }
                assertEquals((long) old, replaced);
                for (long k = first; k < first + n; k++) {
                    model.put(k, value);
                }
            } catch (IllegalStateException e) {
                if (ok) {
                    throw e;
                }
            }
        }

        private void rejectMalformed() {
            long g = layout.granuleSize();
            long base = randomFirstKey(1) << layout.granuleShift();
            long[][] bad = {
                {base + 1 + random.nextLong(g - 1), g}, {base, g + 1 + random.nextLong(g - 1)}, {base, 0},
                {base, -g}, {0, g}, {-base, g}, {AddressMap.USER_ADDRESS_LIMIT, g},
                {AddressMap.USER_ADDRESS_LIMIT - g, 2 * g}, {base, Long.MAX_VALUE & -g},
            };
            long[] args = bad[random.nextInt(bad.length)];
            long before = map.mappedGranules();
            try {
                if (random.nextBoolean()) {
                    map.insert(args[0], args[1], 3);
                } else {
                    map.remove(args[0], args[1]);
                }
                fail("accepted base 0x" + Long.toHexString(args[0]) + " size 0x" + Long.toHexString(args[1]));
            } catch (IllegalArgumentException expected) {
                assertEquals(before, map.mappedGranules());
            }
        }

        private void checkCounters() {
            assertEquals(model.size(), map.mappedGranules());
            long leaves = spansUsed.size(); // every leaf span that ever held a key: emptied leaves stay
            assertEquals(leaves, map.leafCount());
            assertEquals(layout.rootBytes() + layout.leafCountersBytes() + layout.windowBytes()
                    + leaves * layout.leafBytes(), map.memoryBytes());
        }

        /** Random addresses near the centers and near mapped keys, answered as the model says. */
        private void probe(int count) {
            for (int i = 0; i < count; i++) {
                long key;
                if (!model.isEmpty() && random.nextBoolean()) {
                    Long near = model.ceilingKey(random.nextLong(maxKey));
                    key = (near != null ? near : model.lastKey()) + random.nextInt(-1, 2);
                } else {
                    key = randomFirstKey(1);
                }
                long address = (key << layout.granuleShift()) + random.nextLong(layout.granuleSize());
                expectLookup(address);
            }
        }

        private void checkEverything() {
            map.validate();
            for (var entry : model.entrySet()) {
                long base = entry.getKey() << layout.granuleShift();
                expectLookup(base);
                expectLookup(base + layout.granuleSize() - 1);
                expectLookup(base - 1);
                expectLookup(base + layout.granuleSize());
            }
        }

        private void expectLookup(long address) {
            long key = address >>> layout.granuleShift();
            long expected = address < 0 || address >= AddressMap.USER_ADDRESS_LIMIT
                    ? NOT_OURS : model.getOrDefault(key, NOT_OURS);
            assertEquals(expected, map.lookup(address), () -> "lookup(0x" + Long.toHexString(address) + ")");
        }
    }
}
