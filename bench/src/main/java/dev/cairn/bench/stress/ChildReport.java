package dev.cairn.bench.stress;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one forked JVM (or one native floor process) reports, as one line on its standard output:
 * {@code CAIRN-RESULT key=value ...} with {@code times} a comma-separated list of nanoseconds. The native floor in
 * C prints the same line, so both are parsed here.
 *
 * @param timesNanos wall time of each measured repetition
 * @param operations operations per repetition
 * @param idleRssBytes RSS before the workload (peer created, warmed up, heap collected)
 * @param peakRssBytes the high-water mark during the measured repetitions
 * @param endRssBytes RSS after the last repetition
 * @param mallocs blocks allocated in all repetitions
 * @param frees blocks freed in all repetitions (equal to mallocs: the child checks it)
 */
public record ChildReport(List<Long> timesNanos, long operations, long idleRssBytes, long peakRssBytes,
        long endRssBytes, long mallocs, long frees) {

    public static final String PREFIX = "CAIRN-RESULT ";

    public ChildReport {
        timesNanos = List.copyOf(timesNanos);
    }

    /** The RSS the workload added to its process: peak minus idle. */
    public long addedRssBytes() {
        return Math.max(0, peakRssBytes - idleRssBytes);
    }

    public String format() {
        StringBuilder times = new StringBuilder();
        for (long t : timesNanos) {
            times.append(times.isEmpty() ? "" : ",").append(t);
        }
        return PREFIX + "times=" + times + " operations=" + operations + " idleRss=" + idleRssBytes + " peakRss="
                + peakRssBytes + " endRss=" + endRssBytes + " mallocs=" + mallocs + " frees=" + frees;
    }

    /**
     * The report in a process's output: the last line that starts with {@link #PREFIX}.
     *
     * @throws IllegalArgumentException when there is none or it is malformed
     */
    public static ChildReport find(String output) {
        String found = null;
        for (String line : output.split("\n")) {
            if (line.startsWith(PREFIX)) {
                found = line;
            }
        }
        if (found == null) {
            throw new IllegalArgumentException("no " + PREFIX.trim() + " line in the output");
        }
        return parse(found);
    }

    static ChildReport parse(String line) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : line.substring(PREFIX.length()).trim().split(" +")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("malformed field '" + pair + "' in: " + line);
            }
            fields.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        List<Long> times = new ArrayList<>();
        for (String t : require(fields, "times", line).split(",")) {
            times.add(number(t, "times", line));
        }
        return new ChildReport(times, number(fields, "operations", line), number(fields, "idleRss", line),
                number(fields, "peakRss", line), number(fields, "endRss", line), number(fields, "mallocs", line),
                number(fields, "frees", line));
    }

    private static String require(Map<String, String> fields, String key, String line) {
        String v = fields.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing " + key + " in: " + line);
        }
        return v;
    }

    private static long number(Map<String, String> fields, String key, String line) {
        return number(require(fields, key, line), key, line);
    }

    private static long number(String v, String key, String line) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad number for " + key + " ('" + v + "') in: " + line, e);
        }
    }
}
