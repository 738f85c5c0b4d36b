package dev.cairn.segments.internal;

/** {@code pthread_self} behind {@link dev.cairn.segments.OsThread}, which documents the contract. */
public final class OsThreads {

    private OsThreads() {
    }

    /** The running OS thread's {@code pthread_self()}, or 0 where it is not available. */
    public static long currentId() {
        return Syscalls.pthreadSelf();
    }
}
