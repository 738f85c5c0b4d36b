package dev.cairn.segments.internal;

import static dev.cairn.segments.internal.Syscalls.MADV_DONTNEED;
import static dev.cairn.segments.internal.Syscalls.MADV_FREE;
import static dev.cairn.segments.internal.Syscalls.MADV_HUGEPAGE;
import static dev.cairn.segments.internal.Syscalls.MAP_ANONYMOUS;
import static dev.cairn.segments.internal.Syscalls.MAP_FAILED;
import static dev.cairn.segments.internal.Syscalls.MAP_FIXED;
import static dev.cairn.segments.internal.Syscalls.MAP_HUGETLB;
import static dev.cairn.segments.internal.Syscalls.MAP_NORESERVE;
import static dev.cairn.segments.internal.Syscalls.MAP_PRIVATE;
import static dev.cairn.segments.internal.Syscalls.PROT_NONE;
import static dev.cairn.segments.internal.Syscalls.PROT_READ;
import static dev.cairn.segments.internal.Syscalls.PROT_WRITE;

import dev.cairn.segments.Segment.Backing;
import dev.cairn.segments.SegmentConfig.HugePages;
import dev.cairn.segments.SegmentConfig.PurgeMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link OsMemory} on Linux through mmap, munmap, mprotect and madvise.
 *
 * <p><b>Aligned reservation.</b> mmap only promises page alignment, so a reservation maps {@code size + alignment -
 * page} bytes {@code PROT_NONE | MAP_NORESERVE} (address space only: no RAM, no commit charge), keeps the aligned
 * {@code size} bytes inside, and unmaps the head and tail around them. If trimming fails the whole over-reservation
 * is unmapped before the error leaves, so no half-trimmed mapping survives.
 *
 * <p><b>Failures.</b> {@code ENOMEM} from mmap, mprotect or munmap means the kernel ran out of memory, commit
 * charge or mappings ({@code vm.max_map_count}; each protection change can split a mapping), and becomes
 * {@link OutOfMemoryError}. madvise's {@code ENOMEM} only means "range not mapped", a Cairn bug, so it stays an
 * {@link OsException}.
 *
 * <p><b>Commit</b> is {@code mprotect(READ|WRITE)}; the kernel fills pages with zeros on first touch.
 * <b>Purge</b> is {@code madvise(MADV_DONTNEED)} (pages leave at once, RSS drops) or, by configuration,
 * {@code MADV_FREE} (lazy; replaced by DONTNEED from the first EINVAL on, for kernels before 4.5).
 * <b>Decommit</b> is {@code MADV_DONTNEED} then {@code mprotect(PROT_NONE)}; the range stays reserved.
 *
 * <p><b>Transparent huge pages</b> are asked for with {@code madvise(MADV_HUGEPAGE)} over the reserved range; the
 * advice survives later mprotect calls. When the kernel's THP mode is {@code never} (or THP is absent) the advice
 * would be accepted and ignored, so it is not given and the segment reports {@code NORMAL}.
 *
 * <p><b>Explicit huge pages</b> are mapped {@code MAP_FIXED | MAP_HUGETLB}, readable and writable, over the aligned
 * part of a normal reservation, which the space owns, so nothing else can be overwritten. Without
 * {@code MAP_NORESERVE} the kernel takes the pages from its pool at mmap time, so an empty pool fails the call
 * cleanly instead of killing the process at first touch (SIGBUS). On failure the range may be intact or already
 * unmapped (kernels differ), so it is unmapped and a fresh normal reservation is made. Huge-page mappings are pinned
 * and never partially purged: the space treats them as always committed.
 */
final class LinuxOsMemory implements OsMemory {

    private static final Path THP_ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
    private static final boolean THP_USABLE = thpUsable();

    private final SpaceCounters counters;
    private final long pageSize;
    private final PurgeMode purgeMode;
    /** Set once MADV_FREE was refused; from then on purge uses DONTNEED. Racy writes are benign (same value). */
    private volatile boolean freeRefused;

    LinuxOsMemory(SpaceCounters counters, PurgeMode purgeMode) {
        this.counters = counters;
        this.purgeMode = purgeMode;
        this.pageSize = Platform.pageSize();
    }

    @Override
    public long pageSize() {
        return pageSize;
    }

    @Override
    public Mapping reserve(long size, long alignment, HugePages hugePages) {
        long base = reserveAligned(size, alignment);
        return switch (hugePages) {
            case OFF -> new Mapping(base, Backing.NORMAL);
            case TRANSPARENT -> adviseTransparent(base, size);
            case EXPLICIT -> mapExplicit(base, size, alignment);
        };
    }

    @Override
    public void release(long base, long size) {
        munmap(base, size, "release");
    }

    @Override
    public void commit(long address, long length) {
        mprotect(address, length, PROT_READ | PROT_WRITE, "commit");
    }

    @Override
    public void decommit(long address, long length) {
        madvise(address, length, MADV_DONTNEED, "decommit");
        mprotect(address, length, PROT_NONE, "decommit");
    }

    @Override
    public void purge(long address, long length) {
        if (purgeMode == PurgeMode.DONTNEED || freeRefused) {
            madvise(address, length, MADV_DONTNEED, "purge");
            return;
        }
        counters.adviseCall();
        if (Syscalls.madvise(address, length, MADV_FREE) == 0) {
            return;
        }
        int errno = Syscalls.errno();
        counters.failedCall();
        if (errno != Errno.EINVAL) {
            throw OsException.failed(adviseCall(address, length, MADV_FREE) + " to purge", errno);
        }
        freeRefused = true;
        madvise(address, length, MADV_DONTNEED, "purge");
    }

    @Override
    public String purgeDescription() {
        return purgeMode == PurgeMode.FREE && !freeRefused ? "MADV_FREE" : "MADV_DONTNEED";
    }

    /** {@code size} bytes of PROT_NONE address space at a multiple of {@code alignment}; see the class comment. */
    private long reserveAligned(long size, long alignment) {
        long span = size + alignment - pageSize; // mmap's result is page aligned, so this always holds an aligned run
        long raw = mmap(0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, size);
        long base = (raw + alignment - 1) & -alignment;
        long head = base - raw;
        long tail = span - head - size;
        try {
            if (head > 0) {
                munmap(raw, head, "trim a reservation of");
            }
            if (tail > 0) {
                munmap(base + size, tail, "trim a reservation of");
            }
        } catch (RuntimeException | Error e) {
            unmapAfterFailure(raw, span, e); // unmapping parts already gone is fine: munmap ignores holes
            throw e;
        }
        return base;
    }

    private Mapping adviseTransparent(long base, long size) {
        if (!THP_USABLE) {
            counters.hugePageFallback();
            return new Mapping(base, Backing.NORMAL);
        }
        counters.adviseCall();
        if (Syscalls.madvise(base, size, MADV_HUGEPAGE) != 0) {
            counters.failedCall();
            counters.hugePageFallback();
            return new Mapping(base, Backing.NORMAL);
        }
        return new Mapping(base, Backing.TRANSPARENT_HUGE);
    }

    /**
     * One {@code mmap(MAP_FIXED)} of fresh zero pages over the whole reservation, huge-page mappings included:
     * the kernel swaps the mappings atomically, so a thread reading the range meanwhile sees old contents or
     * zeros, never a hole. {@code MAP_NORESERVE}: no commit charge until a page is written.
     */
    @Override
    public void retire(long base, long size) {
        long mapped = mmap(base, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, size);
        if (mapped != base) { // MAP_FIXED maps exactly there or fails, which mmap() above turned into an exception
            throw new IllegalStateException("mmap(" + Sizes.hex(base) + ", MAP_FIXED) mapped " + Sizes.hex(mapped));
        }
    }

    private Mapping mapExplicit(long base, long size, long alignment) {
        counters.mapCall();
        long mapped = Syscalls.mmap(base, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_HUGETLB);
        if (mapped == base) {
            return new Mapping(base, Backing.EXPLICIT_HUGE);
        }
        counters.failedCall();
        counters.hugePageFallback();
        munmap(base, size, "drop a refused huge-page reservation of");
        return new Mapping(reserveAligned(size, alignment), Backing.NORMAL);
    }

    // ---- counted system calls: ENOMEM becomes OutOfMemoryError, anything else OsException ----

    private long mmap(long address, long length, int prot, int flags, long askedSize) {
        counters.mapCall();
        long result = Syscalls.mmap(address, length, prot, flags);
        if (result == MAP_FAILED) {
            int errno = Syscalls.errno();
            counters.failedCall();
            String call = "mmap(" + Sizes.hex(address) + ", " + Sizes.human(length) + ", " + protName(prot) + ")";
            throw failure(call, errno, "reserve address space for", askedSize);
        }
        return result;
    }

    private void munmap(long address, long length, String action) {
        counters.unmapCall();
        if (Syscalls.munmap(address, length) != 0) {
            int errno = Syscalls.errno();
            counters.failedCall();
            throw failure("munmap(" + Sizes.hex(address) + ", " + Sizes.human(length) + ")", errno, action, length);
        }
    }

    private void mprotect(long address, long length, int prot, String action) {
        counters.protectCall();
        if (Syscalls.mprotect(address, length, prot) != 0) {
            int errno = Syscalls.errno();
            counters.failedCall();
            String call = "mprotect(" + Sizes.hex(address) + ", " + Sizes.human(length) + ", " + protName(prot) + ")";
            throw failure(call, errno, action, length);
        }
    }

    /** madvise's ENOMEM means "not mapped", not "no memory", so every madvise failure is an OsException. */
    private void madvise(long address, long length, int advice, String action) {
        counters.adviseCall();
        if (Syscalls.madvise(address, length, advice) != 0) {
            int errno = Syscalls.errno();
            counters.failedCall();
            throw OsException.failed(adviseCall(address, length, advice) + " to " + action, errno);
        }
    }

    private void unmapAfterFailure(long address, long length, Throwable failure) {
        counters.unmapCall();
        if (Syscalls.munmap(address, length) != 0) {
            int errno = Syscalls.errno();
            counters.failedCall();
            failure.addSuppressed(OsException.failed(
                    "munmap(" + Sizes.hex(address) + ", " + Sizes.human(length) + ") after a failed trim", errno));
        }
    }

    /** Throws the OutOfMemoryError itself for ENOMEM; otherwise returns the exception for the caller to throw. */
    private static RuntimeException failure(String call, int errno, String action, long size) {
        if (errno == Errno.ENOMEM) {
            throw OsException.outOfMemory(action, size, call, errno);
        }
        return OsException.failed(call, errno);
    }

    private static String adviseCall(long address, long length, int advice) {
        String name = switch (advice) {
            case MADV_DONTNEED -> "MADV_DONTNEED";
            case MADV_FREE -> "MADV_FREE";
            case MADV_HUGEPAGE -> "MADV_HUGEPAGE";
            default -> Integer.toString(advice);
        };
        return "madvise(" + Sizes.hex(address) + ", " + Sizes.human(length) + ", " + name + ")";
    }

    private static String protName(int prot) {
        return prot == PROT_NONE ? "PROT_NONE" : "PROT_READ|PROT_WRITE";
    }

    /** THP can back advised ranges unless the mode (the bracketed word in sysfs) is {@code never}. */
    private static boolean thpUsable() {
        try {
            String modes = Files.readString(THP_ENABLED);
            return modes.contains("[always]") || modes.contains("[madvise]");
        } catch (IOException | SecurityException e) {
            return false; // no THP support in this kernel, or no sysfs
        }
    }

    /** For tests: whether TRANSPARENT requests can succeed on this machine. */
    static boolean transparentHugePagesUsable() {
        return THP_USABLE;
    }
}
