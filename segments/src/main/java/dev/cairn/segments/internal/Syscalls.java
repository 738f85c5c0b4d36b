package dev.cairn.segments.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * The libc downcalls Cairn makes, and the Linux constants they take, in one place.
 *
 * <p>Each wrapper returns what the C function returns; a failing call leaves its {@code errno} in a per-thread capture
 * buffer ({@link Linker.Option#captureCallState}), read with {@link #errno()} right after the call and before any
 * other downcall on that thread. Deciding what a failure means is the caller's job ({@link LinuxOsMemory}).
 *
 * <p>Pointers that only travel between the kernel and Cairn (the {@code addr} of mmap and friends) are declared as
 * {@code JAVA_LONG} rather than {@code ADDRESS}: on LP64 ABIs (x86_64 SysV, AArch64 AAPCS) a pointer and a 64-bit
 * integer are passed and returned in the same registers, and a {@code long} spares a {@link MemorySegment} per call.
 * Buffers that Java fills or reads ({@code mincore}'s vector, {@code strerror}'s text) are real {@code ADDRESS}es.
 *
 * <p>A symbol missing from the platform's C library leaves its handle {@code null}; calling it throws
 * {@link UnsupportedOperationException}. Only {@link LinuxOsMemory} and {@code ProcessMemory} (on Linux) call the
 * memory functions, so other platforms never reach them.
 */
@SuppressWarnings("restricted") // downcall handles: the module runs with --enable-native-access=dev.cairn.segments
final class Syscalls {

    // ---- Linux constants: <asm-generic/mman-common.h>, <asm-generic/mman.h>, <asm-generic/errno-base.h> ----
    // x86_64 and aarch64 share these values (both use the generic headers for them); other architectures
    // (ppc64, mips, sparc, alpha) differ for some MAP_* flags, which is why Platform only picks mmap on those two.

    static final int PROT_NONE = 0x0;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;

    static final int MAP_PRIVATE = 0x02;
    static final int MAP_FIXED = 0x10;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    static final int MAP_HUGETLB = 0x40000;

    static final int MADV_DONTNEED = 4;
    static final int MADV_FREE = 8;
    static final int MADV_HUGEPAGE = 14;

    /** {@code (void *) -1}, what mmap returns on failure. */
    static final long MAP_FAILED = -1L;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** One capture buffer per thread, so concurrent calls never see each other's errno. */
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), true);
    // int munmap(void *addr, size_t length)
    private static final MethodHandle MUNMAP = downcall("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), true);
    // int mprotect(void *addr, size_t length, int prot)
    private static final MethodHandle MPROTECT = downcall("mprotect",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), true);
    // int madvise(void *addr, size_t length, int advice)
    private static final MethodHandle MADVISE = downcall("madvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), true);
    // int mincore(void *addr, size_t length, unsigned char *vec)
    private static final MethodHandle MINCORE = downcall("mincore",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS), true);
    // int getpagesize(void)
    // pthread_t pthread_self(void): an opaque handle that is a pointer on the platforms Cairn runs on. Critical: it
    // only reads the thread pointer, so the call skips the switch to the native thread state and back.
    private static final MethodHandle PTHREAD_SELF = downcall("pthread_self", FunctionDescriptor.of(JAVA_LONG), false,
            Linker.Option.critical(false));
    private static final MethodHandle GETPAGESIZE = downcall("getpagesize", FunctionDescriptor.of(JAVA_INT), false);
    // char *strerror(int errnum)
    private static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT), false);

    // long syscall(long number, ...): only membarrier goes through it (glibc has no wrapper for it). The variadic
    // arguments are declared long: the kernel reads whole registers, which an int would leave half undefined.
    private static final MethodHandle SYSCALL_3 = downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), true,
            Linker.Option.firstVariadicArg(1));

    /** {@code __NR_membarrier}: 324 on x86_64, 283 on aarch64 (the only architectures the mmap backend runs on). */
    static final long NR_MEMBARRIER = System.getProperty("os.arch", "").equals("aarch64") ? 283 : 324;
    // <linux/membarrier.h>
    static final long MEMBARRIER_CMD_QUERY = 0;
    static final long MEMBARRIER_CMD_PRIVATE_EXPEDITED = 1 << 3;
    static final long MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;

    /** Longest strerror text we read; glibc's longest is under 60 bytes. */
    private static final int MAX_STRERROR_LENGTH = 256;

    private Syscalls() {
    }

    static long mmap(long addr, long length, int prot, int flags) {
        try {
            return (long) require(MMAP, "mmap").invokeExact(CAPTURE.get(), addr, length, prot, flags, -1, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int munmap(long addr, long length) {
        try {
            return (int) require(MUNMAP, "munmap").invokeExact(CAPTURE.get(), addr, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int mprotect(long addr, long length, int prot) {
        try {
            return (int) require(MPROTECT, "mprotect").invokeExact(CAPTURE.get(), addr, length, prot);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int madvise(long addr, long length, int advice) {
        try {
            return (int) require(MADVISE, "madvise").invokeExact(CAPTURE.get(), addr, length, advice);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code vec} must hold one byte per page of {@code [addr, addr + length)}; {@code addr} page aligned. */
    static int mincore(long addr, long length, MemorySegment vec) {
        try {
            return (int) require(MINCORE, "mincore").invokeExact(CAPTURE.get(), addr, length, vec);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code membarrier(cmd, 0, 0)} through {@code syscall}; -1 with errno set on failure. */
    static long membarrier(long cmd) {
        try {
            return (long) require(SYSCALL_3, "syscall").invokeExact(CAPTURE.get(), NR_MEMBARRIER, cmd, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code pthread_self()} of the OS thread running the caller; 0 where the C library has no such function. */
    static long pthreadSelf() {
        if (PTHREAD_SELF == null) {
            return 0;
        }
        try {
            return (long) PTHREAD_SELF.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static boolean hasSyscall() {
        return SYSCALL_3 != null;
    }

    /** The errno of this thread's last failed downcall above. */
    static int errno() {
        return (int) ERRNO.get(CAPTURE.get(), 0L);
    }

    static boolean hasMemoryCalls() {
        return MMAP != null && MUNMAP != null && MPROTECT != null && MADVISE != null && MINCORE != null;
    }

    /** The OS page size from getpagesize(), or 0 when the C library has no such function (Windows). */
    static int pageSizeOrZero() {
        if (GETPAGESIZE == null) {
            return 0;
        }
        try {
            return (int) GETPAGESIZE.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** strerror's text for {@code errnum}, or {@code null} when unavailable. Read at once: the buffer is libc's. */
    static String strerror(int errnum) {
        if (STRERROR == null) {
            return null;
        }
        MemorySegment text;
        try {
            text = (MemorySegment) STRERROR.invokeExact(errnum);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        long addr = text.address();
        if (addr == 0) {
            return null;
        }
        byte[] bytes = new byte[MAX_STRERROR_LENGTH];
        int length = 0;
        while (length < MAX_STRERROR_LENGTH && (bytes[length] = Raw.getByte(addr + length)) != 0) {
            length++;
        }
        return new String(bytes, 0, length, StandardCharsets.UTF_8); // locale-translated texts are UTF-8 here
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, boolean captureErrno,
            Linker.Option... options) {
        Linker.Option[] all = java.util.Arrays.copyOf(options, options.length + (captureErrno ? 1 : 0));
        if (captureErrno) {
            all[options.length] = CAPTURE_ERRNO;
        }
        return LIBC.find(name).map(symbol -> LINKER.downcallHandle(symbol, descriptor, all)).orElse(null);
    }

    private static MethodHandle require(MethodHandle handle, String name) {
        if (handle == null) {
            throw new UnsupportedOperationException(name + " is not available in this platform's C library");
        }
        return handle;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("downcall failed", t); // invokeExact declares Throwable; natives throw none
    }
}
