package dev.cairn.bench.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProcessCostTest {

    @Test
    void readsMinorFaultsAfterACommandNameWithSpacesAndParentheses() {
        String stat = "4242 (my (odd) java) S 1 4242 4242 0 -1 4194560 98765 0 12 0 300 40 0 0 20 0 31 0 1234 5678";
        assertEquals(98765, ProcessCost.minorFaults(stat));
        assertThrows(IllegalArgumentException.class, () -> ProcessCost.minorFaults("no parentheses here"));
    }

    @Test
    void touchingFreshMemoryCountsFaultsAndCpuPerRepetition() {
        ProcessCost before = ProcessCost.now();
        assertTrue(before.minorFaults() > 0, "a JVM has faulted pages in: " + before);
        assertTrue(before.cpuNanos() > 0, "a JVM has used CPU: " + before);
        java.lang.foreign.MemorySegment fresh = java.lang.foreign.Arena.ofAuto().allocate(16L << 20);
        for (long offset = 0; offset < fresh.byteSize(); offset += 4096) {
            fresh.set(java.lang.foreign.ValueLayout.JAVA_BYTE, offset, (byte) 1); // one fault per page at least
        }
        ProcessCost after = ProcessCost.now();
        assertTrue(after.minorFaults() - before.minorFaults() >= 1000,
                "16 MiB touched page by page: " + before + " -> " + after);
        String line = ProcessCost.line(before, after, 2);
        assertTrue(line.startsWith(ProcessCost.PREFIX + "cpuMillisPerRep="), line);
        double faultsPerRep = Double.parseDouble(line.substring(line.indexOf("minorFaultsPerRep=") + 18));
        assertEquals((after.minorFaults() - before.minorFaults()) / 2.0, faultsPerRep, 0.06);
        assertEquals(ProcessCost.PREFIX + "cpuMillisPerRep=unknown minorFaultsPerRep=unknown",
                ProcessCost.line(new ProcessCost(-1, -1), after, 2));
    }
}
