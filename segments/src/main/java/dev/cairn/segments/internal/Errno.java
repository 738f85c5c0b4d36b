package dev.cairn.segments.internal;

import java.util.Map;

/**
 * errno values Cairn reacts to, and the human text of any errno for failure messages.
 *
 * <p>Numbers are Linux's ({@code <asm-generic/errno-base.h>}, shared by x86_64 and aarch64). The symbolic names are
 * a small table of the codes the memory calls document; the sentence comes from {@code strerror}, so it follows the
 * C library (and its locale). Messages read {@code errno 12 (ENOMEM: Cannot allocate memory)}.
 */
public final class Errno {

    public static final int EPERM = 1;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOSYS = 38;
    public static final int EOVERFLOW = 75;
    public static final int EOPNOTSUPP = 95;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(EPERM, "EPERM"), Map.entry(EAGAIN, "EAGAIN"), Map.entry(ENOMEM, "ENOMEM"),
            Map.entry(EACCES, "EACCES"), Map.entry(EFAULT, "EFAULT"), Map.entry(EBUSY, "EBUSY"),
            Map.entry(EEXIST, "EEXIST"), Map.entry(ENODEV, "ENODEV"), Map.entry(EINVAL, "EINVAL"),
            Map.entry(ENOSYS, "ENOSYS"), Map.entry(EOVERFLOW, "EOVERFLOW"), Map.entry(EOPNOTSUPP, "EOPNOTSUPP"));

    private Errno() {
    }

    /** {@code ENOMEM}, or {@code null} for codes outside the table. */
    public static String name(int errno) {
        return NAMES.get(errno);
    }

    /** {@code errno 12 (ENOMEM: Cannot allocate memory)}; degrades to fewer parts when name or text is unknown. */
    public static String describe(int errno) {
        String name = name(errno);
        String text = Syscalls.strerror(errno);
        if (name == null && text == null) {
            return "errno " + errno;
        }
        if (name == null) {
            return "errno " + errno + " (" + text + ")";
        }
        return "errno " + errno + " (" + name + (text == null ? "" : ": " + text) + ")";
    }
}
