package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.*;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a dump goes: names the target may have, a caller's pending interrupt, and the one-line reason when the file
 * cannot be written. Found by dumping to the paths a user would try.
 */
class DumpPathTest {

    @TempDir
    Path dir;

    /** The dump's first bytes: the magic. */
    private static void assertDump(Path path) throws Exception {
        byte[] bytes = Files.readAllBytes(path);
        assertTrue(bytes.length > 96, path + " has " + bytes.length + " bytes");
        assertEquals("CAIRNDMP", new String(bytes, 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** A name near the file system's limit (255 bytes) is a valid target: the temporary file must fit too. */
    @Test
    void aLongFileNameIsWritten() throws Exception {
        Path path = dir.resolve("d".repeat(249) + ".cdump");
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(100);
            allocator.dumpHeap(path);
        }
        assertDump(path);
        try (var left = Files.list(dir)) {
            assertEquals(1, left.count(), "no temporary file is left behind");
        }
    }

    /**
     * A pending interrupt (a worker closing its resources in a finally after being interrupted) does not cost the
     * dump: it used to close the file channel at once and fail with the message "null". The flag is kept for the
     * caller.
     */
    @Test
    void aPendingInterruptDoesNotLoseTheDump() throws Exception {
        Path path = dir.resolve("interrupted.cdump");
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(100);
            Thread.currentThread().interrupt();
            try {
                allocator.dumpHeap(path);
            } finally {
                assertTrue(Thread.interrupted(), "the interrupt is still pending after the dump");
            }
        }
        assertDump(path);
    }

    /** The same for the dump written on close. */
    @Test
    void aPendingInterruptDoesNotLoseTheDumpOnClose() throws Exception {
        Path path = dir.resolve("on-close.cdump");
        Allocator allocator = Allocator.create(AllocatorConfig.builder().dumpOnClose(path.toString()).build());
        allocator.malloc(100);
        Thread.currentThread().interrupt();
        try {
            allocator.close();
        } finally {
            assertTrue(Thread.interrupted());
        }
        assertDump(path);
    }

    /** A missing directory is named as the reason, for the path the caller gave, not as a bare temporary name. */
    @Test
    void aMissingDirectoryIsTheReasonGiven() {
        Path path = dir.resolve("no/such/dir/x.cdump");
        try (Allocator allocator = Allocator.create()) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> allocator.dumpHeap(path));
            String message = e.getMessage();
            assertTrue(message.startsWith("Cairn: cannot write the heap dump " + path + ": "), message);
            assertTrue(message.contains("no such file or directory"), message);
            assertFalse(message.contains("null"), message);
        }
    }
}
