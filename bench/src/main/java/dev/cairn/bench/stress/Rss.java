package dev.cairn.bench.stress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident memory from {@code /proc/self/status}: the OS's own figure, which sees off-heap memory
 * that no JVM counter does. {@link #resetPeak()} sets the high-water mark back to the current RSS (Linux 4.0+), so
 * a peak read later is the workload's, not the JVM start-up's.
 */
public final class Rss {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private Rss() {
    }

    /** Current resident set, bytes ({@code VmRSS}). */
    public static long currentBytes() {
        return field("VmRSS:");
    }

    /** Highest resident set since start or since {@link #resetPeak()}, bytes ({@code VmHWM}). */
    public static long peakBytes() {
        return field("VmHWM:");
    }

    /** Resets the peak to the current RSS; false where the kernel does not allow it (the peak then starts at 0). */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** A {@code kB} line of the status file, in bytes. */
    static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    return parseKb(line.substring(name.length()));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + STATUS + " (Linux only): " + e.getMessage(), e);
        }
        throw new IllegalStateException(STATUS + " has no " + name + " line (Linux only)");
    }

    static long parseKb(String value) {
        String v = value.trim();
        if (!v.endsWith("kB")) {
            throw new IllegalStateException("unexpected unit in status value '" + v + "'");
        }
        return Long.parseLong(v.substring(0, v.length() - 2).trim()) * 1024;
    }
}
