package dev.cairn.segments.internal;

/**
 * An operating-system call failed for a reason other than running out of memory.
 *
 * <p>Out-of-memory ({@code ENOMEM}) is not an {@code OsException}: it becomes an {@link OutOfMemoryError} naming the
 * size asked for ({@link #outOfMemory}), because callers treat it like any allocation failure. Everything else
 * (an {@code EINVAL} from a Cairn bug, an {@code EPERM} from a sandbox) is this exception, whose message names the
 * call, its arguments and the errno with its text. Callers see it as a {@link RuntimeException}; the class is
 * internal because nobody should branch on it.
 */
public final class OsException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The errno the call left, or 0 when the failure did not come with one. */
    private final int errno;

    private OsException(String message, int errno, Throwable cause) {
        super(message, cause);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    /** {@code call} is the C call as written for a reader, e.g. {@code mprotect(0x7f0000000000, 64 KiB, RW)}. */
    public static OsException failed(String call, int errno) {
        return new OsException(call + " failed: " + Errno.describe(errno), errno, null);
    }

    /**
     * The error for "the OS has no memory or address space for this": {@code cannot reserve 32 MiB (33554432 bytes):
     * mmap(...) failed: errno 12 (ENOMEM: ...)}.
     */
    public static OutOfMemoryError outOfMemory(String action, long size, String call, int errno) {
        OutOfMemoryError e = new OutOfMemoryError("cannot " + action + " " + Sizes.humanWithBytes(size) + ": "
                + call + " failed: " + Errno.describe(errno));
        e.initCause(new OsException(call + " failed", errno, null));
        return e;
    }

    /** The same error for a failure reported without errno (the arena backend's allocator). */
    public static OutOfMemoryError outOfMemory(String action, long size, Throwable cause) {
        OutOfMemoryError e = new OutOfMemoryError("cannot " + action + " " + Sizes.humanWithBytes(size) + ": "
                + cause.getMessage());
        e.initCause(cause);
        return e;
    }
}
