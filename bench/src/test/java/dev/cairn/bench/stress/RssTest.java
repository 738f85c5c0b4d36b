package dev.cairn.bench.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RssTest {

    @Test
    void readsThisProcessAndParsesKilobytes() {
        assertEquals(1024L * 1234, Rss.parseKb("   1234 kB"));
        assertThrows(IllegalStateException.class, () -> Rss.parseKb("1234 MB"));
        long current = Rss.currentBytes();
        assertTrue(current > 1 << 20, "a JVM has more than 1 MiB resident: " + current);
        // VmHWM is raised lazily by the kernel (and another test may just have reset it): only its sanity is checked.
        assertTrue(Rss.peakBytes() > 1 << 20, "a JVM's peak RSS is above 1 MiB: " + Rss.peakBytes());
    }

    @Test
    void resettingThePeakBringsItDownToTheCurrentRss() {
        byte[] touched = new byte[64 << 20];
        java.util.Arrays.fill(touched, (byte) 1); // raise the peak by 64 MiB of Java heap
        touched = null;
        System.gc();
        // The RSS may move on either side of the reset (the collector gives memory back, other threads allocate):
        // the peak must come down to about the larger of the RSS just before it and just after it. Against the RSS
        // after it alone, a fresh-clone CI run failed once (memory given back after the reset).
        long before = Rss.currentBytes();
        if (Rss.resetPeak()) {
            long peak = Rss.peakBytes();
            long after = Rss.currentBytes();
            assertTrue(peak <= Math.max(before, after) + (8 << 20), "peak reset to about the current RSS: peak "
                    + peak + ", RSS before " + before + ", after " + after);
            assertTrue(peak < before + (64 << 20), "the 64 MiB touched before is no longer in the peak: " + peak);
        }
    }
}
