package dev.cairn.reclaim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The protocol's races, one small scenario each, run many times through {@link RaceHarness}. A reader takes a
 * pointer and reads the node twice (with a short pause between, to widen the window); a writer swaps in a new
 * node and frees the old one ("free" writes poison) when the protocol allows. The forbidden outcome is a reader
 * that read poison. The last scenario breaks the protocol on purpose and must produce it, proving the
 * scenarios can see the race at all.
 */
class QsbrRaceTest {

    private static final int TRIALS = 20_000;
    private static final Duration BUDGET = Duration.ofSeconds(2);
    private static final long OLD = 1;
    private static final long NEW = 2;
    private static final long POISON = 0xDEAD;

    /** A node on the Java heap; its value is read and poisoned with plain accesses, as off-heap memory would be. */
    static final class Node {
        long value;

        Node(long value) {
            this.value = value;
        }
    }

    /** One trial's state. {@code ptr} is the published pointer; the rest is written by one actor each. */
    static final class Trial {
        volatile Node ptr = new Node(OLD);
        long first;
        long second;
        boolean freed;
    }

    private static void read(Trial s) {
        Node n = s.ptr;
        s.first = n.value;
        Thread.yield(); // still reading (online, not quiescent): widens the window, also on a busy machine
        s.second = n.value;
    }

    private static String seen(long v) {
        return v == OLD ? "old" : v == NEW ? "new" : v == POISON ? "POISON" : "?" + v;
    }

    private static String outcome(Trial s) {
        boolean poisoned = s.first == POISON || s.second == POISON;
        return (poisoned ? "FORBIDDEN reader saw poison" : "reader saw " + seen(s.first) + "/" + seen(s.second))
                + (s.freed ? ", writer freed old" : ", writer kept old");
    }

    private static void assertNoPoison(RaceHarness.Outcomes o) {
        System.out.print(o.table());
        assertEquals(0, o.countMatching("FORBIDDEN"), o.table());
        long total = o.counts().values().stream().mapToLong(Long::longValue).sum();
        assertTrue(total >= 64, "too few trials ran: " + total);
    }

    /** Swaps the pointer; frees the old node if a poll of a fresh goal succeeds within {@code micros}. */
    private static RaceHarness.Actor<Trial> pollingWriter(Qsbr domain, long micros) {
        return s -> {
            Node old = s.ptr;
            s.ptr = new Node(NEW);
            long goal = domain.advance();
            long until = System.nanoTime() + micros * 1_000;
            for (int i = 0; i == 0 || System.nanoTime() - until < 0; i++) {
                if (domain.poll(goal)) {
                    old.value = POISON;
                    s.freed = true;
                    return;
                }
                Thread.onSpinWait();
            }
        };
    }

    @Test
    void attachRacesWithAReclaimingWriter() throws Exception {
        // The store-buffer pair: attach (store slot, full fence, read) against poll (unlink, full fence, scan).
        try (Qsbr domain = Qsbr.create()) {
            Supplier<RaceHarness.Actor<Trial>> reader = () -> {
                QsbrThread h = domain.register();
                h.detach();
                return new RaceHarness.Actor<>() {
                    @Override
                    public void act(Trial s) {
                        h.attach();
                        read(s);
                        h.detach();
                    }

                    @Override
                    public void close() {
                        h.unregister();
                    }
                };
            };
            Supplier<RaceHarness.Actor<Trial>> writer = () -> pollingWriter(domain, 0);
            RaceHarness.Outcomes o = RaceHarness.run("attach vs reclaiming writer", TRIALS, BUDGET, Trial::new,
                    List.of(reader, writer), QsbrRaceTest::outcome);
            assertNoPoison(o);
        }
    }

    @Test
    void quiescentRacesWithAPollingWriter() throws Exception {
        try (Qsbr domain = Qsbr.create()) {
            Supplier<RaceHarness.Actor<Trial>> reader = () -> quiescingReader(domain);
            Supplier<RaceHarness.Actor<Trial>> writer = () -> pollingWriter(domain, 50);
            RaceHarness.Outcomes o = RaceHarness.run("quiescent vs polling writer", TRIALS, BUDGET, Trial::new,
                    List.of(reader, writer), QsbrRaceTest::outcome);
            assertNoPoison(o);
        }
    }

    @Test
    void deferredFreeRacesWithAReader() throws Exception {
        try (Qsbr domain = Qsbr.create()) {
            Supplier<RaceHarness.Actor<Trial>> reader = () -> quiescingReader(domain);
            Supplier<RaceHarness.Actor<Trial>> writer = () -> {
                QsbrThread h = domain.register();
                return new RaceHarness.Actor<>() {
                    @Override
                    public void act(Trial s) {
                        Node old = s.ptr;
                        s.ptr = new Node(NEW);
                        h.defer(() -> {
                            old.value = POISON;
                            s.freed = true; // may run in a later trial: this trial then reports "kept"
                        }, domain.advance());
                        long until = System.nanoTime() + 50_000;
                        while (!s.freed && System.nanoTime() - until < 0) {
                            h.quiescent();
                            h.processDeferred(); // a failed check waits for the next advance; insist here
                        }
                    }

                    @Override
                    public void close() {
                        h.unregister();
                    }
                };
            };
            RaceHarness.Outcomes o = RaceHarness.run("deferred free vs reader", TRIALS, BUDGET, Trial::new,
                    List.of(reader, writer), QsbrRaceTest::outcome);
            assertNoPoison(o);
        }
    }

    @Test
    void freeingWithoutWaitingIsCaught() throws Exception {
        // The violation: free right after unlinking. The reader must sometimes see poison, or the scenarios above
        // would pass whether or not the protocol works. Batches until it shows, within a generous deadline.
        Supplier<RaceHarness.Actor<Trial>> reader = () -> QsbrRaceTest::read;
        Supplier<RaceHarness.Actor<Trial>> writer = () -> s -> {
            Node old = s.ptr;
            s.ptr = new Node(NEW);
            old.value = POISON;
            s.freed = true;
        };
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        RaceHarness.Outcomes o;
        do {
            o = RaceHarness.run("free at once vs reader (must fail)", 2_000, BUDGET, Trial::new,
                    List.of(reader, writer), QsbrRaceTest::outcome);
        } while (o.countMatching("FORBIDDEN") == 0 && System.nanoTime() < deadline);
        System.out.print(o.table());
        assertTrue(o.countMatching("FORBIDDEN") > 0, "the violation was never observed: " + o.table());
    }

    /** A registered reader that reads the trial's node, then reports a quiescent point. */
    private static RaceHarness.Actor<Trial> quiescingReader(Qsbr domain) {
        QsbrThread h = domain.register();
        return new RaceHarness.Actor<>() {
            @Override
            public void act(Trial s) {
                read(s);
                h.quiescent();
            }

            @Override
            public void close() {
                h.unregister();
            }
        };
    }
}
