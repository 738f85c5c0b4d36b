package dev.cairn.radix;

import static dev.cairn.radix.AddressMap.NOT_OURS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.radix.internal.RadixLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Readers look up addresses in and around ranges while writers insert and remove them, many rounds over.
 *
 * <p>A range's value encodes its own first granule, the writer that inserted it and that writer's generation
 * ({@link #valueOf}), so a reader can decode any answer and check it: the address lies inside that range (never
 * another range's value, never garbage); the value was not removed before the lookup began; a range inserted before
 * the lookup began and not removed by its end is found. Permanent ranges, mapped before the race, must always hit.
 * Candidate ranges overlap, so racing inserts exercise the all-or-nothing rule; some are alone in their leaves, so
 * leaves are unlinked and made anew while readers hold them. Before each insert the writer fills a {@link Header}
 * with plain stores, which a reader that sees the value must see, as the segment layer relies on.
 *
 * <p>Tunable with system properties {@code cairn.radix.stress.rounds}, {@code .millis}, {@code .readers},
 * {@code .writers} (at most 4); a failure names its round's seed.
 */
class AddressMapConcurrencyTest {

    private static final int ROUNDS = Integer.getInteger("cairn.radix.stress.rounds", 24);
    private static final int MILLIS_PER_ROUND = Integer.getInteger("cairn.radix.stress.millis", 120);
    private static final int READERS = Integer.getInteger("cairn.radix.stress.readers", 3);
    private static final int WRITERS = Math.min(4, Integer.getInteger("cairn.radix.stress.writers", 2));

    private static final int SHIFT = 22; // 4 MiB granules, 4096-granule leaves
    private static final RadixLayout LAYOUT = RadixLayout.forGranuleShift(SHIFT);
    private static final long G = LAYOUT.granuleSize();
    private static final long L = LAYOUT.leafLength(); // granules per leaf
    private static final long MAX_KEY = 1L << LAYOUT.keyBits();

    // value = firstKey << SHIFT | generation << 3 | writer << 1 | 1
    private static final int GENERATION_SHIFT = 3;
    private static final long MAX_GENERATION = (G >>> GENERATION_SHIFT) - 1;

    /** {firstKey, granules}: mapped for the whole round (by "writer 0", generation 0). */
    private static final long[][] PERMANENT = {
        {2 * L + 10, 3}, {3 * L - 1, 2}, {MAX_KEY - 2, 2},
    };

    /** {firstKey, granules}: inserted and removed by writers; they overlap each other, never a permanent range. */
    private static final long[][] CANDIDATES = {
        {2 * L + 20, 4}, {2 * L + 22, 4}, {2 * L + 13, 1}, {2 * L + 9, 1}, {3 * L + 1, 3}, // leaves shared
        {6 * L - 2, 4}, {6 * L - 1, 1}, {5 * L + 7, 1}, {5 * L, L}, // alone in leaves 5 and 6
        {8 * L + 5, 2 * L + 10}, {9 * L, 1}, {MAX_KEY - 5, 3}, // several leaves; just below the top
    };

    /** What a segment layer would write before publishing a segment; plain fields on purpose. */
    static final class Header {
        long base;
        long generation;
    }

    /**
     * Shared state of one round. Writer w owns slot {@code w * CANDIDATES.length + c} of each array; the generation
     * counters say: inserted (stored after insert returns), removing (stored before remove is called), removed
     * (stored after remove returns).
     */
    private record Round(AddressMap map, Header[] headers, AtomicLongArray inserted, AtomicLongArray removing,
            AtomicLongArray removed, AtomicReference<String> failure, long deadline) {

        static int slot(int writer, int candidate) {
            return writer * CANDIDATES.length + candidate;
        }
    }

    @Test
    void readersSeeOnlyTheValueOfTheRangeThatHoldsTheAddress() throws InterruptedException {
        long master = System.nanoTime();
        AtomicLong lookups = new AtomicLong();
        AtomicLong hits = new AtomicLong();
        AtomicLong inserts = new AtomicLong();
        for (int round = 0; round < ROUNDS; round++) {
            long seed = master + round;
            try {
                runRound(seed, lookups, hits, inserts);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("round " + round + ", seed " + seed + ": " + e.getMessage(), e);
            }
        }
        System.out.printf("AddressMap stress: %d rounds, %d readers, %d writers: %d lookups (%d hits), %d inserts%n",
                ROUNDS, READERS, WRITERS, lookups.get(), hits.get(), inserts.get());
        assertTrue(hits.get() > 0 && hits.get() < lookups.get(), "the race saw both hits and misses");
        assertTrue(inserts.get() > ROUNDS, "writers got work done: " + inserts.get());
    }

    private static void runRound(long seed, AtomicLong lookups, AtomicLong hits, AtomicLong inserts)
            throws InterruptedException {
        AddressMap map = AddressMap.create(SHIFT);
        for (long[] range : PERMANENT) {
            map.insert(range[0] * G, range[1] * G, valueOf(range[0], 0, 0));
        }
        int slots = WRITERS * CANDIDATES.length;
        Round round = new Round(map, new Header[slots], new AtomicLongArray(slots), new AtomicLongArray(slots),
                new AtomicLongArray(slots), new AtomicReference<>(),
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MILLIS_PER_ROUND));
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int i = 0; i < READERS; i++) {
            SplittableRandom random = seeds.split();
            threads.add(Thread.ofPlatform().name("reader-" + i).start(guarded(round, () -> {
                await(start);
                long[] counts = read(round, random);
                lookups.addAndGet(counts[0]);
                hits.addAndGet(counts[1]);
            })));
        }
        for (int i = 0; i < WRITERS; i++) {
            SplittableRandom random = seeds.split();
            int writer = i;
            threads.add(Thread.ofPlatform().name("writer-" + i).start(guarded(round, () -> {
                await(start);
                inserts.addAndGet(write(round, writer, random));
            })));
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (round.failure().get() != null) {
            throw new AssertionError(round.failure().get());
        }
        map.validate(); // writers removed all they inserted: only the permanent ranges are left
        long permanentGranules = 0;
        for (long[] range : PERMANENT) {
            permanentGranules += range[1];
            assertEquals(valueOf(range[0], 0, 0), map.lookup(range[0] * G));
        }
        assertEquals(permanentGranules, map.mappedGranules());
        int leaves = map.leafCount(); // the permanent ranges' and those writers emptied, which stay
        assertTrue(leaves >= 3, leaves + " leaves"); // leaves 2, 3 and the top one at least
        for (long[] range : PERMANENT) {
            map.remove(range[0] * G, range[1] * G);
        }
        assertEquals(0, map.mappedGranules());
        assertEquals(leaves, map.leafCount());
        map.validate();
    }

    /** Looks up random addresses until the deadline; returns {lookups, hits}. */
    private static long[] read(Round round, SplittableRandom random) {
        long[] insertedBefore = new long[WRITERS];
        long[] removedBefore = new long[WRITERS];
        long lookups = 0;
        long hits = 0;
        while ((lookups & 1023) != 0 || round.failure().get() == null && System.nanoTime() < round.deadline()) {
            boolean permanent = random.nextInt(4) == 0;
            int c = random.nextInt(CANDIDATES.length);
            long[] range = permanent ? PERMANENT[random.nextInt(PERMANENT.length)] : CANDIDATES[c];
            long address = range[0] * G + random.nextLong(-G, (range[1] + 1) * G);
            for (int w = 0; w < WRITERS; w++) { // acquire: pairs with the writer's volatile stores
                insertedBefore[w] = round.inserted().get(Round.slot(w, c));
                removedBefore[w] = round.removed().get(Round.slot(w, c));
            }
            long value = round.map().lookup(address);
            lookups++;
            hits += value != NOT_OURS ? 1 : 0;
            String problem = check(address, value, round);
            if (problem == null && !permanent && inside(address, range)) {
                problem = checkAgainstWriters(address, value, c, insertedBefore, removedBefore, round);
            }
            if (problem != null) {
                round.failure().compareAndSet(null, problem);
            }
        }
        return new long[] {lookups, hits};
    }

    /** Why {@code value} is a wrong answer for {@code address} whatever the timing, or null. */
    private static String check(long address, long value, Round round) {
        String where = where(address, value);
        for (long[] range : PERMANENT) {
            if (inside(address, range)) {
                return value == valueOf(range[0], 0, 0) ? null : where + ": inside a permanent range that must hit";
            }
        }
        if (value == NOT_OURS) {
            return null;
        }
        int writer = (int) ((value >>> 1) & 3);
        long generation = (value & (G - 1)) >>> GENERATION_SHIFT;
        if ((value & 1) == 0 || writer >= WRITERS || generation == 0) {
            return where + ": not a value any range was inserted with";
        }
        for (int c = 0; c < CANDIDATES.length; c++) {
            long[] range = CANDIDATES[c];
            if (range[0] == value >>> SHIFT) {
                if (!inside(address, range)) {
                    return where + ": the value of a range that does not contain the address";
                }
                Header header = round.headers()[Round.slot(writer, c)]; // plain: ordered by lookup's acquire
                if (header == null || header.base != range[0] * G || header.generation < generation) {
                    return where + ": the header written before the insert is not visible";
                }
                return null;
            }
        }
        return where + ": the value of no candidate range";
    }

    /**
     * For an address inside candidate {@code c}: a generation of {@code c} removed before the lookup began must not be
     * seen, and one inserted before it began and still not removed after it ended must be seen.
     */
    private static String checkAgainstWriters(long address, long value, int c, long[] insertedBefore,
            long[] removedBefore, Round round) {
        for (int w = 0; w < WRITERS; w++) {
            long removingAfter = round.removing().get(Round.slot(w, c));
            if (insertedBefore[w] > removingAfter && value != valueOf(CANDIDATES[c][0], w, insertedBefore[w])) {
                return where(address, value) + ": missed generation " + insertedBefore[w] + " of writer " + w
                        + ", mapped for the whole lookup";
            }
            if (value >>> SHIFT == CANDIDATES[c][0] && ((value >>> 1) & 3) == w
                    && (value & (G - 1)) >>> GENERATION_SHIFT <= removedBefore[w]) {
                return where(address, value) + ": generation removed before the lookup began (writer " + w
                        + " removed up to " + removedBefore[w] + ")";
            }
        }
        return null;
    }

    /** Inserts random candidates and removes them again until the deadline; returns successful inserts. */
    private static long write(Round round, int writer, SplittableRandom random) {
        long generation = 0;
        while (round.failure().get() == null && System.nanoTime() < round.deadline() && generation < MAX_GENERATION) {
            int c = random.nextInt(CANDIDATES.length);
            int slot = Round.slot(writer, c);
            long[] range = CANDIDATES[c];
            long base = range[0] * G;
            long size = range[1] * G;
            long value = valueOf(range[0], writer, generation + 1);
            Header header = new Header();
            header.base = base;
            header.generation = generation + 1;
            round.headers()[slot] = header; // plain; published by the release in insert (only this writer's slot)
            try {
                round.map().insert(base, size, value);
            } catch (IllegalStateException overlapping) {
                continue; // another writer holds an overlapping candidate
            }
            generation++;
            round.inserted().set(slot, generation); // volatile, after insert; read by readers before a lookup
            for (int spin = random.nextInt(200); spin > 0; spin--) {
                Thread.onSpinWait();
            }
            round.removing().set(slot, generation); // volatile, before remove; read by readers after a lookup
            try {
                long removed = round.map().remove(base, size); // nobody else removes what this writer inserted
                if (removed != value) {
                    round.failure().compareAndSet(null, "remove returned 0x" + Long.toHexString(removed)
                            + ", inserted 0x" + Long.toHexString(value));
                }
            } catch (RuntimeException e) {
                round.failure().compareAndSet(null, "remove of an own range failed: " + e);
            }
            round.removed().set(slot, generation); // volatile, after remove; read by readers around a lookup
        }
        return generation;
    }

    private static long valueOf(long firstKey, int writer, long generation) {
        return (firstKey << SHIFT) | (generation << GENERATION_SHIFT) | ((long) writer << 1) | 1;
    }

    private static boolean inside(long address, long[] range) {
        long key = address >> SHIFT;
        return key >= range[0] && key < range[0] + range[1];
    }

    private static String where(long address, long value) {
        return "lookup(0x" + Long.toHexString(address) + ") = 0x" + Long.toHexString(value);
    }

    /** The task, reporting anything it throws as the round's failure. */
    private static Runnable guarded(Round round, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                round.failure().compareAndSet(null, Thread.currentThread().getName() + " threw " + t);
            }
        };
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
