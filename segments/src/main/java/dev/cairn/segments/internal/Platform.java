package dev.cairn.segments.internal;

import java.util.Locale;

/**
 * What this process runs on, decided once: whether the mmap backend applies, and the OS page size.
 *
 * <p>The mmap backend needs Linux on x86_64 or aarch64 because {@link Syscalls}' constants are those
 * architectures' values. Everything else gets the portable arena backend.
 */
public final class Platform {

    private static final String OS = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    private static final String ARCH = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);

    /** Used only where the C library cannot tell us (no getpagesize, e.g. Windows). */
    private static final long FALLBACK_PAGE_SIZE = 4096;

    private static final boolean LINUX = OS.startsWith("linux");
    private static final boolean MMAP_SUPPORTED = LINUX
            && (ARCH.equals("amd64") || ARCH.equals("x86_64") || ARCH.equals("aarch64"))
            && Syscalls.hasMemoryCalls();
    private static final long PAGE_SIZE = pageSizeFromOs();

    private Platform() {
    }

    public static boolean isLinux() {
        return LINUX;
    }

    /** True where {@link LinuxOsMemory} works: Linux, x86_64 or aarch64, with the libc memory calls present. */
    public static boolean mmapSupported() {
        return MMAP_SUPPORTED;
    }

    /** The OS (base) page size in bytes, from getpagesize(); 4096 where the C library has none. */
    public static long pageSize() {
        return PAGE_SIZE;
    }

    public static String describe() {
        return System.getProperty("os.name") + "/" + System.getProperty("os.arch");
    }

    private static long pageSizeFromOs() {
        int size = Syscalls.pageSizeOrZero();
        return size > 0 ? size : FALLBACK_PAGE_SIZE;
    }
}
