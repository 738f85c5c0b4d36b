package dev.cairn.segments.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.segments.SegmentStats;
import dev.cairn.segments.internal.Platform;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SegmentsDemoTest {

    @Test
    void walksTheWholeLifecycleAndShowsResidencyDrop() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SegmentStats stats;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            stats = SegmentsDemo.run(out);
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        List<String> steps = lines.stream().map(l -> l.split("\\s+")[0]).toList();
        assertEquals(List.of("reserved", "committed", "wrote", "resident", "purged", "resident", "decommitted",
                "released", "stats"), steps, String.join("\n", lines));
        String reserved = "reserved +32 MiB segment at 0x[0-9a-f]+ \\(aligned to 32 MiB, backing \\w+\\)";
        assertTrue(lines.get(0).matches(reserved), lines.get(0));
        assertTrue(lines.get(2).endsWith("verified"), lines.get(2));
        if (Platform.mmapSupported()) {
            assertTrue(lines.get(3).startsWith("resident    16 MiB of the committed range"), lines.get(3));
            assertTrue(lines.get(5).startsWith("resident    0 B of the committed range (mincore, down 16 MiB)"),
                    lines.get(5));
            assertEquals(16L << 20, stats.purgedBytes());
            assertEquals(16L << 20, stats.decommittedBytes());
        }
        assertEquals(0, stats.liveSegments());
        assertEquals(0, stats.reservedBytes());
        assertEquals(0, stats.committedBytes());
        assertTrue(lines.get(8).contains(stats.toJson()));
    }
}
