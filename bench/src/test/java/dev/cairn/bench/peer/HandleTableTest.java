package dev.cairn.bench.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HandleTableTest {

    @Test
    void handlesAreUniqueWhileLiveAndNeverZero() {
        HandleTable<String> table = new HandleTable<>();
        HandleTable<String>.Local local = table.local();
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            long handle = local.put("o" + i);
            assertNotEquals(0, handle);
            assertTrue(seen.add(handle), "duplicate handle " + handle);
            assertEquals("o" + i, local.get(handle));
        }
    }

    @Test
    void doubleFreeIsRefused() {
        HandleTable<String> table = new HandleTable<>();
        HandleTable<String>.Local local = table.local();
        long handle = local.put("x");
        assertEquals("x", local.remove(handle));
        assertThrows(IllegalStateException.class, () -> local.remove(handle));
    }

    @Test
    void producerConsumerDoesNotGrowTheTableWithoutBound() {
        // One thread allocates, another frees (xmalloc's pattern): freed slots pile up at the consumer and must
        // flow back to the producer through the shared queue, or the table grows with every allocation.
        HandleTable<Integer> table = new HandleTable<>();
        HandleTable<Integer>.Local producer = table.local();
        HandleTable<Integer>.Local consumer = table.local();
        long[] batch = new long[4096];
        for (int round = 0; round < 200; round++) {
            for (int i = 0; i < batch.length; i++) {
                batch[i] = producer.put(i);
            }
            for (long handle : batch) {
                consumer.remove(handle);
            }
        }
        assertTrue(table.slotsCreated() < 4 * (HandleTable.LOCAL_MAX + batch.length),
                "table grew to " + table.slotsCreated() + " slots for 4096 live objects");
    }
}
