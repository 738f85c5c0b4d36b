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
        if (Rss.resetPeak()) {
            assertTrue(Rss.peakBytes() <= Rss.currentBytes() + (8 << 20), "peak reset to about the current RSS");
        }
    }
}
