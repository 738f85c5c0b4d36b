package dev.cairn.segments;

import static dev.cairn.segments.TestSpaces.SEGMENT;
import static dev.cairn.segments.TestSpaces.UNIT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.segments.SegmentConfig.Backend;
import dev.cairn.segments.internal.SegmentSpaceImpl;
import dev.cairn.segments.raw.Raw;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Several threads reserve, commit, purge, decommit and release at once, on their own segments and on units of a
 * shared one. Each thread models what it did; at the end the space's counters must equal the models exactly.
 */
class SegmentSpaceConcurrencyTest {

    private static final int THREADS = 4;
    private static final int UNITS = (int) (SEGMENT / UNIT);

    @ParameterizedTest
    @MethodSource("dev.cairn.segments.TestSpaces#backends")
    @Timeout(value = 30, unit = TimeUnit.SECONDS) // a lock-order bug shows up as a hang; fail instead
    void countersMatchWhatEveryThreadDid(Backend backend) throws Exception {
        int rounds = backend == Backend.ARENA ? 25 : 60; // arena segments are zeroed by malloc; keep them fewer
        SegmentSpace space = TestSpaces.space(backend);
        Segment shared = space.reserve();
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Future<Model>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                Callable<Model> worker = () -> {
                    start.await();
                    return work(space, shared, id, rounds);
                };
                results.add(pool.submit(worker));
            }
        }
        boolean always = shared.backing().alwaysCommitted();
        long kept = 0;
        long committed = always ? SEGMENT : 0;
        BitSet sharedUnits = new BitSet(UNITS);
        for (Future<Model> f : results) {
            Model m = f.get();
            kept += m.kept.size();
            committed += m.keptCommittedBytes(always);
            sharedUnits.or(m.sharedUnits);
        }
        if (!always) {
            committed += sharedUnits.cardinality() * UNIT;
        }
        SegmentStats stats = space.stats();
        assertEquals(kept + 1, stats.liveSegments());
        assertEquals((kept + 1) * SEGMENT, stats.reservedBytes());
        assertEquals(committed, stats.committedBytes());
        ((SegmentSpaceImpl) space).checkInvariants();

        space.close();
        assertEquals(0, space.stats().liveSegments());
        assertEquals(0, space.stats().reservedBytes());
        assertEquals(0, space.stats().committedBytes());
    }

    /** What one thread believes: its kept segments with their committed units, and its units of the shared one. */
    private record Model(Map<Segment, BitSet> kept, BitSet sharedUnits) {
        long keptCommittedBytes(boolean always) {
            long bytes = 0;
            for (BitSet units : kept.values()) {
                bytes += always ? SEGMENT : units.cardinality() * UNIT;
            }
            return bytes;
        }
    }

    private static Model work(SegmentSpace space, Segment shared, int id, int rounds) {
        SplittableRandom random = new SplittableRandom(id * 7919L + 1);
        Map<Segment, BitSet> kept = new HashMap<>();
        BitSet sharedUnits = new BitSet(UNITS);
        for (int round = 0; round < rounds; round++) {
            Segment s = space.reserve();
            BitSet units = new BitSet(UNITS);
            for (int op = 0; op < 6; op++) {
                int from = random.nextInt(UNITS);
                int to = from + 1 + random.nextInt(Math.min(8, UNITS - from));
                apply(space, s, units, random.nextInt(3), from, to);
            }
            if (random.nextInt(4) == 0) {
                kept.put(s, units);
            } else {
                space.release(s);
            }
            // this thread's share of the shared segment: units with index % THREADS == id
            int unit = id + THREADS * random.nextInt(UNITS / THREADS);
            apply(space, shared, sharedUnits, random.nextInt(3), unit, unit + 1);
        }
        return new Model(kept, sharedUnits);
    }

    /** One operation, applied to the space and mirrored in the model. */
    private static void apply(SegmentSpace space, Segment s, BitSet units, int kind, int from, int to) {
        long offset = from * UNIT;
        long length = (to - from) * UNIT;
        switch (kind) {
            case 0 -> {
                space.commit(s, offset, length);
                units.set(from, to);
                Raw.putLong(s.base() + offset, from); // committed memory must be writable right away
            }
            case 1 -> {
                space.purge(s, offset, length); // gives the commit back, leaving the memory accessible
                units.clear(from, to);
            }
            default -> {
                space.decommit(s, offset, length);
                units.clear(from, to);
            }
        }
    }
}
