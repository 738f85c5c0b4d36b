package dev.cairn.segments.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much memory is really resident: the process's RSS from {@code /proc/self/statm}, and the resident pages of
 * a range from {@code mincore}. Behind {@link dev.cairn.segments.ProcessMemory}, which documents the rules.
 */
public final class Residency {

    private static final Path STATM = Path.of("/proc/self/statm");
    /** Pages asked of mincore per call, so the vector stays small (16 KiB) for ranges of any size. */
    private static final long PAGES_PER_CALL = 16 * 1024;

    private Residency() {
    }

    /** Resident set size in bytes, or -1 where {@code /proc/self/statm} cannot be read. */
    public static long rssBytes() {
        try {
            String[] fields = Files.readString(STATM).trim().split("\\s+"); // size resident shared text lib data dt
            return Long.parseLong(fields[1]) * Platform.pageSize();
        } catch (IOException | RuntimeException e) { // unreadable, or not the format we know
            return -1;
        }
    }

    /** Resident bytes of the pages touching {@code [address, address + length)}, or -1 without mincore. */
    public static long residentBytes(long address, long length) {
        if (length < 0 || address < 0 || address > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException("bad range: address " + Sizes.hex(address) + ", length " + length);
        }
        if (!Platform.mmapSupported()) {
            return -1;
        }
        long page = Platform.pageSize();
        if (address + length > Long.MAX_VALUE - (page - 1)) { // rounding the end up to a page would overflow
            throw new IllegalArgumentException("range at " + Sizes.hex(address) + ", length " + length
                    + " is not entirely mapped: it ends in the last page of the address range, far above user space");
        }
        long start = address & -page;
        long end = (address + length + page - 1) & -page;
        long resident = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vec = arena.allocate(PAGES_PER_CALL);
            for (long at = start; at < end; at += PAGES_PER_CALL * page) {
                long pages = Math.min(PAGES_PER_CALL, (end - at) / page);
                resident += residentPages(at, pages, page, vec) * page;
            }
        }
        return resident;
    }

    private static long residentPages(long address, long pages, long page, MemorySegment vec) {
        if (Syscalls.mincore(address, pages * page, vec) != 0) {
            int errno = Syscalls.errno();
            String call = "mincore(" + Sizes.hex(address) + ", " + Sizes.human(pages * page) + ")";
            if (errno == Errno.ENOMEM) {
                throw new IllegalArgumentException(call + ": the range is not entirely mapped ("
                        + Errno.describe(errno) + ")");
            }
            throw OsException.failed(call, errno);
        }
        long count = 0;
        for (long i = 0; i < pages; i++) {
            count += vec.get(ValueLayout.JAVA_BYTE, i) & 1; // bit 0: page resident; other bits are reserved
        }
        return count;
    }
}
