package dev.cairn.bench.workload;

/**
 * What one run of a workload did and how long its timed part took.
 *
 * @param elapsedNanos wall time of the timed part (set-up and final clean-up excluded)
 * @param operations the workload's unit of work in the timed part (malloc+free pairs for most), for throughput
 * @param mallocs blocks allocated, clean-up included
 * @param frees blocks freed, clean-up included: equal to {@code mallocs} when nothing leaked
 * @param bytes bytes requested
 * @param checksum sum of the check bytes read back before each free
 */
public record WorkloadResult(long elapsedNanos, long operations, long mallocs, long frees, long bytes,
        long checksum) {

    static WorkloadResult of(long elapsedNanos, long operations, Tally tally) {
        if (tally.mallocs() != tally.frees()) {
            throw new IllegalStateException("workload leaked: " + tally.mallocs() + " mallocs, " + tally.frees()
                    + " frees");
        }
        return new WorkloadResult(elapsedNanos, operations, tally.mallocs(), tally.frees(), tally.bytes(),
                tally.checksum());
    }

    /** Million operations per second. */
    public double mopsPerSecond() {
        return operations * 1e3 / elapsedNanos;
    }
}
