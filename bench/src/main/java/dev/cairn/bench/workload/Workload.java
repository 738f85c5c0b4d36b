package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import java.util.List;

/**
 * A mimalloc-bench style workload. Implementations are stateless: {@link #run} builds what it needs, times its main
 * part, frees every block it allocated and returns what it did, so it can run again in the same JVM (warm-up and
 * repetitions) and under JMH.
 */
public interface Workload {

    /** The command-line name, e.g. {@code larson}. */
    String name();

    /** One line for {@code --help} and the report. */
    String description();

    List<ParamSpec> params();

    /** Threads when {@code --threads} is not given. */
    int defaultThreads();

    /** Whether blocks are freed by threads other than their allocating one (peers without that are skipped). */
    boolean crossThread();

    /**
     * Runs the workload once on {@code threads} threads.
     *
     * @throws BlockCheck.BlockCorruptedException when a block's check bytes changed
     * @throws IllegalStateException when blocks leaked
     */
    WorkloadResult run(Peer peer, int threads, Params params) throws InterruptedException;
}
