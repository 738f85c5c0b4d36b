package dev.cairn.segments.internal;

import java.util.Locale;

/** Byte counts and addresses written for people: binary units (KiB = 1024 B), hex addresses. */
public final class Sizes {

    public static final long KiB = 1L << 10;
    public static final long MiB = 1L << 20;
    public static final long GiB = 1L << 30;
    public static final long TiB = 1L << 40;

    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private Sizes() {
    }

    /** {@code 32 MiB} when exact, else one decimal ({@code 1.5 GiB}); negative counts keep their sign. */
    public static String human(long bytes) {
        if (bytes < 0) {
            return bytes == Long.MIN_VALUE ? bytes + " B" : "-" + human(-bytes);
        }
        int unit = 0;
        while (unit + 1 < UNITS.length && bytes >= 1L << (10 * (unit + 1))) {
            unit++;
        }
        long scale = 1L << (10 * unit);
        if (bytes % scale == 0) {
            return bytes / scale + " " + UNITS[unit];
        }
        return String.format(Locale.ROOT, "%.1f %s", (double) bytes / scale, UNITS[unit]);
    }

    /** {@code 32 MiB (33554432 bytes)}, for error messages where the exact number matters. */
    public static String humanWithBytes(long bytes) {
        return human(bytes) + " (" + bytes + " bytes)";
    }

    /** {@code 0x7f1234000000}. */
    public static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    public static boolean isPowerOfTwo(long value) {
        return value > 0 && (value & (value - 1)) == 0;
    }
}
