package dev.cairn.segments;

import dev.cairn.segments.internal.Residency;

/**
 * How much memory the process really holds, for tests, demos and diagnostics. Not for hot paths: each call reads
 * {@code /proc} or makes a system call.
 *
 * <p>{@link #residentBytes} is the one to trust in tests: it asks the kernel page by page ({@code mincore}), so it
 * is exact for the range and unaffected by the GC or other threads' allocations, which move {@link #rssBytes()}.
 */
public final class ProcessMemory {

    private ProcessMemory() {
    }

    /** The process's resident set size in bytes from {@code /proc/self/statm}, or -1 where that is unavailable. */
    public static long rssBytes() {
        return Residency.rssBytes();
    }

    /**
     * Bytes of {@code [address, address + length)} resident in RAM, counted in whole OS pages: every page the range
     * touches counts fully. Works for any mapped memory (mmap or arena segments alike). Returns -1 where
     * {@code mincore} is not supported (outside Linux x86_64/aarch64).
     *
     * @throws IllegalArgumentException if {@code length} is negative or part of the range is not mapped
     */
    public static long residentBytes(long address, long length) {
        return Residency.residentBytes(address, length);
    }

    /** The residency of a whole segment; see {@link #residentBytes(long, long)}. */
    public static long residentBytes(Segment segment) {
        return Residency.residentBytes(segment.base(), segment.size());
    }
}
