package dev.cairn.reclaim.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.ClassLayout;
import org.openjdk.jol.info.FieldLayout;
import org.openjdk.jol.vm.VM;

/**
 * The padding is proven, not assumed: the JVM decides field order, so these check the real offsets.
 *
 * <p>A shared word is alone on its cache line when no other field of the object, and nothing outside it, lies
 * within {@value #LINE} - 8 bytes of it: at least 56 bytes of never-written padding before it (counting the
 * object header as foreign) and after it.
 */
class SlotLayoutTest {

    private static final int LINE = 64;

    /**
     * JOL prints a notice to System.out when it cannot load its instrumentation agent, which only object sizes
     * of live instances need, not class layouts. Initialize it once with that notice swallowed.
     */
    @BeforeAll
    static void initJolQuietly() {
        PrintStream out = System.out;
        try {
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            VM.current();
        } finally {
            System.setOut(out);
        }
    }

    private static long offsetOf(ClassLayout layout, String field) {
        return layout.fields().stream().filter(f -> f.name().equals(field)).mapToLong(FieldLayout::offset)
                .findFirst().orElseThrow(() -> new AssertionError("no field " + field + "\n" + layout.toPrintable()));
    }

    /** Checks that between {@code field} and every field not named like a pad there are at least 56 bytes. */
    private static void assertIsolated(Class<?> type, String field, String... neighboursAllowedClose) {
        ClassLayout layout = ClassLayout.parseClass(type);
        long at = offsetOf(layout, field);
        String dump = layout.toPrintable();
        assertTrue(at >= LINE - 8, field + " is too close to the object start (the header and whatever precedes"
                + " the object):\n" + dump);
        assertTrue(layout.instanceSize() - (at + 8) >= LINE - 8, field + " is too close to the object end:\n" + dump);
        for (FieldLayout f : layout.fields()) {
            boolean pad = f.name().matches("p\\d\\d");
            boolean allowed = java.util.Arrays.asList(neighboursAllowedClose).contains(f.name());
            if (!pad && !allowed && !f.name().equals(field)) {
                long gap = Math.abs(f.offset() - at);
                assertTrue(gap >= LINE, f.name() + " shares a line with " + field + " (gap " + gap + "):\n" + dump);
            }
        }
    }

    @Test
    void aSlotSequenceHasItsCacheLineToItself() {
        assertIsolated(Slot.class, "seq");
    }

    @Test
    void theWriteAndReadSequencesSitOnDifferentLines() {
        assertIsolated(GlobalSeq.class, "wrSeq");
        assertIsolated(GlobalSeq.class, "rdSeq");
    }
}
