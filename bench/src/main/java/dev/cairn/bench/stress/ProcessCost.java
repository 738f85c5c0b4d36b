package dev.cairn.bench.stress;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the whole process spent over an interval: CPU time (every thread's, the JIT's and the collector's included)
 * and minor page faults. On a small, shared machine the wall time of a repetition swings by half from one run to the
 * next, while these two move much less: they are what an A/B comparison of two builds reads first (a change that
 * saves page faults or a purge shows up there even when the medians overlap). The child prints them on a line of its
 * own, {@code CAIRN-COST}, which the runner does not parse.
 *
 * @param cpuNanos process CPU time ({@code OperatingSystemMXBean.getProcessCpuTime}), -1 if unknown
 * @param minorFaults minor faults from {@code /proc/self/stat} (Linux), -1 if unknown
 */
public record ProcessCost(long cpuNanos, long minorFaults) {
    private static final Path STAT = Path.of("/proc/self/stat");
    /** The prefix of the line {@link #line} prints. */
    public static final String PREFIX = "CAIRN-COST ";

    /** The process's totals now. */
    public static ProcessCost now() {
        long cpu = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            cpu = os.getProcessCpuTime();
        }
        long faults;
        try {
            faults = minorFaults(Files.readString(STAT));
        } catch (IOException | RuntimeException e) {
            faults = -1;
        }
        return new ProcessCost(cpu, faults);
    }

    /**
     * The {@code minflt} field (the 10th) of a {@code /proc/PID/stat} line. The command name (2nd field) is in
     * parentheses and may itself hold spaces and parentheses, so fields are counted from the last ')'.
     */
    static long minorFaults(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("not a stat line: " + stat);
        }
        String[] fields = stat.substring(close + 2).trim().split(" +");
        return Long.parseLong(fields[7]); // state ppid pgrp session tty_nr tpgid flags minflt
    }

    /** Per repetition from {@code before} to {@code after}, as the child prints it. */
    static String line(ProcessCost before, ProcessCost after, int reps) {
        return PREFIX + "cpuMillisPerRep=" + perRep(before.cpuNanos, after.cpuNanos, reps, 1e6)
                + " minorFaultsPerRep=" + perRep(before.minorFaults, after.minorFaults, reps, 1);
    }

    private static String perRep(long before, long after, int reps, double unit) {
        if (before < 0 || after < 0 || reps <= 0) {
            return "unknown";
        }
        return String.format(java.util.Locale.ROOT, "%.1f", (after - before) / unit / reps);
    }
}
