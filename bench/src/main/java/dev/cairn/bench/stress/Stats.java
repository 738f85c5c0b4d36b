package dev.cairn.bench.stress;

import java.util.List;

/** Medians: robust against the one slow repetition a shared machine always produces. */
final class Stats {
    private Stats() {
    }

    /** The median of {@code values} (mean of the middle two for an even count); 0 for none. */
    static double median(List<Long> values) {
        if (values.isEmpty()) {
            return 0;
        }
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
    }
}
