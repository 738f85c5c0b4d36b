package dev.cairn.segments;

import dev.cairn.segments.internal.Membarrier;

/**
 * An asymmetric memory barrier: {@link #run()} makes every thread of the process that is running execute a full
 * memory barrier before it returns (Linux {@code membarrier}, private expedited; a descheduled thread passes one when
 * it is switched out). A protocol whose hot side may then order a store before a later load with no fence of its own
 * (a store the JIT keeps in program order, such as an opaque one), paying the cost on a rare side instead: the rare
 * side stores, calls {@link #run()}, then loads, and so sees the hot side's store or the hot side sees its store.
 *
 * <p>Where it is not {@link #available()} (not Linux x86_64/aarch64, a kernel before 4.14, a seccomp filter that
 * refuses the call) the hot side must use a real fence or an atomic instead. Each {@link #run()} costs a system call
 * and an interrupt to every CPU running one of the process's threads: microseconds, not for hot paths.
 */
public final class ProcessBarrier {

    private ProcessBarrier() {
    }

    /** Whether {@link #run()} works in this process (decided once). */
    public static boolean available() {
        return Membarrier.available();
    }

    /**
     * Runs the barrier on every running thread of the process.
     *
     * @throws IllegalStateException if it is not {@link #available()}, or the kernel refused the call
     */
    public static void run() {
        if (!Membarrier.run()) {
            throw new IllegalStateException("membarrier(PRIVATE_EXPEDITED) is not available in this process ("
                    + dev.cairn.segments.internal.Platform.describe() + ")");
        }
    }
}
