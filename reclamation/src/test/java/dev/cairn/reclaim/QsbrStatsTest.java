package dev.cairn.reclaim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stats' item counters: addresses and tasks are told apart, and both drain as their goals are reached. */
class QsbrStatsTest {

    @Test
    void deferredAddressesCountsOnlyAddressesUntilTheyAreFreed() throws Exception {
        List<Long> freed = new ArrayList<>();
        try (Qsbr domain = Qsbr.create(QsbrConfig.builder().free(freed::add).sizeOf(a -> 16).build())) {
            QsbrThread writer = domain.register();
            int[] tasksRun = {0};
            // a reader that stays online without reaching a quiescent point holds everything back
            QsbrThread[] reader = new QsbrThread[1];
            Thread readerThread = new Thread(() -> reader[0] = domain.register());
            readerThread.start();
            readerThread.join(); // it died registered: it holds the goal back until the domain notices
            for (int i = 0; i < 5; i++) {
                writer.defer(0x1000L + 16L * i);
            }
            for (int i = 0; i < 3; i++) {
                writer.defer(() -> tasksRun[0]++);
            }
            QsbrStats held = domain.stats();
            assertEquals(8, held.deferredItems());
            assertEquals(5, held.deferredAddresses());
            assertEquals(80, held.deferredBytes());

            writer.detach();
            domain.synchronize(); // finds the dead reader, unregisters it; the goal is reached
            writer.attach();
            writer.processDeferred();
            QsbrStats done = domain.stats();
            assertEquals(0, done.deferredItems());
            assertEquals(0, done.deferredAddresses());
            assertEquals(5, freed.size());
            assertEquals(3, tasksRun[0]);
            writer.unregister();
        }
    }
}
