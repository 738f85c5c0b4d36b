package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link CarrierSlots}: each carrier keeps one slot, and carriers up to the slot count get slots of their own. */
class CarrierSlotsTest {

    @Test
    void carriersUpToTheSlotCountGetDistinctSlotsAndKeepThem() {
        long seed = System.nanoTime();
        System.out.println("CarrierSlotsTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (int slots : new int[] {1, 2, 3, 8, 32, 512}) {
            CarrierSlots table = new CarrierSlots(slots);
            long[] carriers = new long[slots];
            Set<Integer> given = new HashSet<>();
            Set<Long> unique = new HashSet<>();
            for (int i = 0; i < slots; i++) {
                do {
                    carriers[i] = randomCarrier(random);
                } while (!unique.add(carriers[i]));
                int slot = table.slotOf(carriers[i]);
                assertTrue(slot >= 0 && slot < slots, "slot " + slot + " of " + slots);
                assertTrue(given.add(slot), "slot " + slot + " given twice; seed " + seed);
            }
            for (int i = 0; i < slots; i++) {
                assertTrue(given.remove(table.slotOf(carriers[i])), "carrier " + i + " changed slot; seed " + seed);
            }
        }
    }

    @Test
    void moreCarriersThanTheTableHoldsStillGetSlotsInRange() {
        CarrierSlots table = new CarrierSlots(2); // a table of 64 entries
        for (long carrier = 1; carrier <= 10_000; carrier++) {
            long id = carrier << 12; // ids that are pthread_t-like: aligned addresses
            int slot = table.slotOf(id);
            assertTrue(slot == 0 || slot == 1, "slot " + slot);
            assertEquals(slot, table.slotOf(id), "carrier " + carrier + " changed slot");
        }
    }

    @Test
    void theCallingThreadHasASlotInRange() {
        CarrierSlots table = new CarrierSlots(3);
        int slot = table.current();
        assertTrue(slot >= 0 && slot < 3);
        assertEquals(slot, table.current());
        assertThrows(IllegalArgumentException.class, () -> new CarrierSlots(0));
    }

    /** Threads that register the same carriers at once: each carrier ends with one slot, whoever registered it. */
    @Test
    void racingRegistrationsOfOneCarrierAgreeOnItsSlot() throws Exception {
        for (int round = 0; round < 200; round++) {
            CarrierSlots table = new CarrierSlots(4);
            long[] carriers = {0x7f00_0000_1000L, 0x7f00_0000_2000L, 0x7f00_0000_3000L, 0x7f00_0000_4000L};
            int[][] seen = new int[4][carriers.length];
            CountDownLatch start = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread[] threads = new Thread[4];
            for (int t = 0; t < threads.length; t++) {
                int me = t;
                threads[t] = Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < carriers.length; i++) {
                            int at = (i + me) % carriers.length;
                            seen[me][at] = table.slotOf(carriers[at]);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
            }
            start.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(null, failure.get());
            Set<Integer> distinct = new HashSet<>();
            for (int i = 0; i < carriers.length; i++) {
                for (int t = 1; t < threads.length; t++) {
                    assertEquals(seen[0][i], seen[t][i], "round " + round + ": carrier " + i);
                }
                distinct.add(seen[0][i]);
            }
            assertEquals(carriers.length, distinct.size(), "round " + round);
        }
    }

    /** An id like a pthread_t: a page-aligned user-space address. */
    private static long randomCarrier(SplittableRandom random) {
        return random.nextLong(1L << 30, 1L << 46) & ~0xFFFL;
    }
}
