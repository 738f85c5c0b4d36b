package dev.cairn.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.Peers;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The workloads' threads: larson's chains of generations and everybody's plain threads must each run every part on
 * a thread of its own, add every thread's tally to the total, and rethrow a thread's failure only once all are done.
 */
class WorkersTest {

    /** What one part saw: its index and its thread. */
    private record Part(int index, Thread thread) {
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "virtual {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void everyGenerationOfEveryChainRunsOnAFreshThreadInOrder(boolean virtual) throws InterruptedException {
        List<Part> parts = new CopyOnWriteArrayList<>();
        Tally total = new Tally();
        try (Peer peer = byteArrayPeer()) {
            Workers.runChains("chain", 3, 4, virtual, peer, total, (index, view, tally) -> {
                parts.add(new Part(index, Thread.currentThread()));
                BlockCheck.checkAndFree(view, BlockCheck.mallocFilled(view, 16, tally), 16, tally);
            });
        }
        assertEquals(12, parts.size());
        assertEquals(12, parts.stream().map(Part::thread).distinct().count(), "one thread per generation");
        assertEquals(List.of(virtual), parts.stream().map(p -> p.thread().isVirtual()).distinct().toList());
        Map<Integer, List<String>> names = parts.stream().collect(Collectors.groupingBy(Part::index,
                Collectors.mapping(p -> p.thread().getName(), Collectors.toList())));
        assertEquals(Set.of(0, 1, 2), names.keySet());
        names.values().forEach(n -> assertEquals(List.of("chain-4", "chain-3", "chain-2", "chain-1"), n));
        assertEquals(12, total.mallocs(), "every generation's tally added");
        assertEquals(12, total.frees());
    }

    @Test
    void aChainsFailureIsRethrownOnceTheOtherChainsHaveEnded() {
        List<Part> parts = new CopyOnWriteArrayList<>();
        IllegalStateException boom = new IllegalStateException("boom");
        try (Peer peer = byteArrayPeer()) {
            assertSame(boom, assertThrows(IllegalStateException.class,
                    () -> Workers.runChains("chain", 3, 4, false, peer, new Tally(), (index, view, tally) -> {
                        parts.add(new Part(index, Thread.currentThread()));
                        if (index == 1 && parts.stream().filter(p -> p.index() == 1).count() == 2) {
                            throw boom;
                        }
                    })));
        }
        // Chain 1 ends with its failing second generation; the others ran to the end before the rethrow.
        assertEquals(Map.of(0, 4L, 1, 2L, 2, 4L),
                parts.stream().collect(Collectors.groupingBy(Part::index, Collectors.counting())));
    }

    @Test
    void plainThreadsRunEveryPartAndRethrowTheFailure() throws InterruptedException {
        List<Part> parts = new CopyOnWriteArrayList<>();
        Tally total = new Tally();
        try (Peer peer = byteArrayPeer()) {
            Workers.runAll("plain", 3, peer, total, (index, view, tally) -> {
                parts.add(new Part(index, Thread.currentThread()));
                BlockCheck.checkAndFree(view, BlockCheck.mallocFilled(view, 16, tally), 16, tally);
            });
            AssertionError failure = new AssertionError("failed");
            assertSame(failure, assertThrows(AssertionError.class,
                    () -> Workers.runAll("plain", 2, peer, new Tally(), (index, view, tally) -> {
                        if (index == 1) {
                            throw failure;
                        }
                    })));
        }
        assertEquals(Set.of("plain-0", "plain-1", "plain-2"),
                parts.stream().map(p -> p.thread().getName()).collect(Collectors.toSet()));
        assertEquals(3, total.mallocs());
    }

    private static Peer byteArrayPeer() {
        return Peers.byName("byte-array").orElseThrow().create();
    }
}
