package dev.cairn.bench.workload;

import dev.cairn.bench.peer.Peer;
import java.util.List;

/**
 * What every workload declares the same way (its name, description, parameters, default threads and whether it
 * frees across threads), given once to the constructor, and the running of its threads; a subclass holds only its
 * own parameters and its {@link #run}.
 */
abstract class AbstractWorkload implements Workload {
    /** For {@link #crossThread()}: every block is freed by the thread that allocated it. */
    static final boolean SAME_THREAD = false;
    /** For {@link #crossThread()}: some blocks are freed by other threads than their allocating one. */
    static final boolean CROSS_THREAD = true;

    private final String name;
    private final String description;
    private final int defaultThreads;
    private final boolean crossThread;
    private final List<ParamSpec> params;

    AbstractWorkload(String name, String description, int defaultThreads, boolean crossThread,
            List<ParamSpec> params) {
        this.name = name;
        this.description = description;
        this.defaultThreads = defaultThreads;
        this.crossThread = crossThread;
        this.params = params;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String description() {
        return description;
    }

    @Override
    public final List<ParamSpec> params() {
        return params;
    }

    @Override
    public final int defaultThreads() {
        return defaultThreads;
    }

    @Override
    public final boolean crossThread() {
        return crossThread;
    }

    /** {@link Workers#runAll} with threads named after this workload. */
    final long runThreads(Peer peer, int count, Tally total, Workers.Body body) throws InterruptedException {
        return Workers.runAll(name, count, peer, total, body);
    }

    /** {@link Workers#runChains} with threads named after this workload. */
    final long runChains(Peer peer, int count, int generations, Tally total, Workers.Body body)
            throws InterruptedException {
        return Workers.runChains(name, count, generations, false, peer, total, body);
    }

    /** {@link #runChains} with every generation a virtual thread. */
    final long runVirtualChains(Peer peer, int count, int generations, Tally total, Workers.Body body)
            throws InterruptedException {
        return Workers.runChains(name, count, generations, true, peer, total, body);
    }

    /** {@code maxSize}, checked against {@code minSize}. */
    static int checkedMax(int minSize, int maxSize) {
        if (maxSize < minSize) {
            throw new IllegalArgumentException("maxSize " + maxSize + " is below minSize " + minSize);
        }
        return maxSize;
    }
}
