package dev.cairn.segments.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

class ErrnoTest {

    @Test
    void describesWithNumberNameAndText() {
        assumeTrue(Platform.isLinux(), "numbers are Linux's");
        String enomem = Errno.describe(Errno.ENOMEM);
        assertTrue(enomem.matches("errno 12 \\(ENOMEM: .+\\)"), enomem);
        String einval = Errno.describe(Errno.EINVAL);
        assertTrue(einval.matches("errno 22 \\(EINVAL: .+\\)"), einval);
        assertEquals("ENOMEM", Errno.name(12));
    }

    @Test
    void unknownCodesStillRead() {
        String text = Errno.describe(4242);
        assertTrue(text.startsWith("errno 4242"), text);
    }

    @Test
    void osExceptionsCarryTheCallAndErrno() {
        OsException e = OsException.failed("mprotect(0x1000, 4 KiB, PROT_NONE)", Errno.EINVAL);
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().startsWith("mprotect(0x1000, 4 KiB, PROT_NONE) failed: errno 22"), e.getMessage());
        OutOfMemoryError oom = OsException.outOfMemory("commit", 1L << 20, "mprotect(...)", Errno.ENOMEM);
        assertTrue(oom.getMessage().startsWith("cannot commit 1 MiB (1048576 bytes): mprotect(...) failed: errno 12"),
                oom.getMessage());
        assertEquals(Errno.ENOMEM, ((OsException) oom.getCause()).errno());
    }
}
