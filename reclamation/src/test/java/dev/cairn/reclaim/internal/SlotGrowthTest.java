package dev.cairn.reclaim.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.reclaim.QsbrConfig;
import dev.cairn.reclaim.QsbrThread;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The slot table grows while a registered thread keeps storing to its slot; no store may be lost, whichever
 * array the scans walk.
 */
class SlotGrowthTest {

    @Test
    void storesDuringGrowthAreNeverLost() throws Exception {
        QsbrDomain domain = new QsbrDomain(QsbrConfig.builder().initialSlots(1).build());
        AtomicBoolean stopQuiescing = new AtomicBoolean();
        AtomicBoolean goOffline = new AtomicBoolean();
        AtomicBoolean leave = new AtomicBoolean();
        AtomicLong lastSeen = new AtomicLong();
        CountDownLatch registered = new CountDownLatch(1);
        CountDownLatch offline = new CountDownLatch(1);
        Thread busy = new Thread(() -> {
            QsbrThread h = domain.register();
            registered.countDown();
            while (!stopQuiescing.get()) {
                h.quiescent();
            }
            lastSeen.set(domain.writeSequence());
            while (!goOffline.get()) {
                Thread.onSpinWait();
            }
            h.detach();
            offline.countDown();
            while (!leave.get()) {
                Thread.onSpinWait();
            }
            h.unregister();
        });
        busy.start();
        registered.await();

        // Grow the table from 1 to 64 slots while "busy" stores to its slot as fast as it can.
        List<Thread> others = new ArrayList<>();
        CountDownLatch othersIn = new CountDownLatch(63);
        CountDownLatch othersGo = new CountDownLatch(1);
        for (int i = 0; i < 63; i++) {
            Thread t = new Thread(() -> {
                QsbrThread h = domain.register();
                h.detach();
                othersIn.countDown();
                try {
                    othersGo.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                h.unregister();
            });
            t.start();
            others.add(t);
        }
        othersIn.await();
        assertEquals(64, domain.slotCapacity(), "grew 1 -> 2 -> ... -> 64");

        long goal = domain.advance();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!domain.poll(goal)) {
            assertTrue(System.nanoTime() < deadline, "the busy thread's stores never reached the scans");
        }
        stopQuiescing.set(true);
        while (lastSeen.get() == 0) {
            Thread.onSpinWait();
        }
        long blocked = domain.advance();
        assertFalse(domain.poll(blocked), "online and no longer quiescing: the scan must see it in the new array");
        goOffline.set(true);
        offline.await();
        assertTrue(domain.poll(blocked), "the detach store landed in the slot the new array references");
        leave.set(true);
        othersGo.countDown();
        busy.join();
        for (Thread t : others) {
            t.join();
        }
        domain.close();
    }
}
