package dev.cairn.segments.internal;

/**
 * Linux {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)}: behind {@link dev.cairn.segments.ProcessBarrier}, which
 * documents the contract. The process registers once, when this class loads; where the kernel lacks the command
 * (before 4.14), refuses it (a seccomp filter), or the platform is not the mmap backend's, it is unavailable.
 */
public final class Membarrier {

    private static final boolean AVAILABLE = register();

    private Membarrier() {
    }

    public static boolean available() {
        return AVAILABLE;
    }

    /** Runs the barrier; false (errno aside) if the kernel refused it, which a registered process never sees. */
    public static boolean run() {
        return AVAILABLE && Syscalls.membarrier(Syscalls.MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
    }

    private static boolean register() {
        if (!Platform.mmapSupported() || !Syscalls.hasSyscall()) {
            return false;
        }
        long supported = Syscalls.membarrier(Syscalls.MEMBARRIER_CMD_QUERY);
        long needed = Syscalls.MEMBARRIER_CMD_PRIVATE_EXPEDITED | Syscalls.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
        return supported >= 0 && (supported & needed) == needed
                && Syscalls.membarrier(Syscalls.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
    }
}
