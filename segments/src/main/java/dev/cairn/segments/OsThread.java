package dev.cairn.segments;

import dev.cairn.segments.internal.OsThreads;

/**
 * Which operating-system thread is running the caller. For a platform thread that is its own thread; for a virtual
 * thread it is the carrier it is mounted on at the moment of the call, which a virtual thread can change whenever it
 * parks (blocking I/O, a lock, {@code Thread.yield}). The JDK offers no public way to name a virtual thread's carrier;
 * this is the C library's {@code pthread_self()}, called through a critical FFM downcall (a few nanoseconds).
 *
 * <p>What it is good for: choosing per-carrier state for virtual threads (a cache, a heap) that is then used under a
 * lock or a CAS, because the answer may be stale as soon as the caller parks. Two threads alive at the same time never
 * get the same id; a thread that has ended may see its id given to a new one.
 */
public final class OsThread {

    private static final boolean AVAILABLE = OsThreads.currentId() != 0;

    private OsThread() {
    }

    /** Whether {@link #currentId()} names threads on this platform (decided once: a C library with pthreads). */
    public static boolean available() {
        return AVAILABLE;
    }

    /** An opaque, nonzero id of the OS thread running the caller; 0 where not {@link #available()}. */
    public static long currentId() {
        return AVAILABLE ? OsThreads.currentId() : 0;
    }
}
