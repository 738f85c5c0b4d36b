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

    /**
     * A pipe is written through, as documented ("a path that exists and is not a regular file is written in place"):
     * the writer patched each section's frame with a positional write, which a pipe refuses ("Illegal seek"), so a
     * dump to a FIFO always failed after sending a broken first section.
     */
    @Test
    void aPipeGetsTheWholeDump() throws Exception {
        Path fifo = dir.resolve("dump.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo is needed");
        byte[][] read = new byte[1][];
        Thread reader = new Thread(() -> {
            try {
                read[0] = Files.readAllBytes(fifo);
            } catch (java.io.IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        reader.start();
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(100);
            allocator.malloc(5 << 20);
            allocator.dumpHeap(fifo, DumpOptions.withContents());
        }
        reader.join(30_000);
        byte[] bytes = read[0];
        assertNotNull(bytes);
        assertEquals("CAIRNDMP", new String(bytes, 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
        // the frames chain from the header to an END section that ends the file, each with its real length
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long position = 96;
        int sections = 0;
        while (true) {
            int kind = in.getInt((int) position);
            long length = in.getLong((int) position + 8);
            position += 16 + length;
            sections++;
            if (kind == 0) {
                break;
            }
            assertTrue(length > 0 && position < bytes.length, "section " + kind + " of length " + length);
        }
        assertEquals(bytes.length, position);
        assertTrue(sections >= 10, sections + " sections");
        assertTrue(Files.exists(fifo), "the pipe is still a pipe");
        assertFalse(Files.isRegularFile(fifo));
    }

    /**
     * A symbolic link is followed: the dump replaces the file it names (the rename replaced the link itself with a
     * regular file, leaving the linked file stale: "latest.cdump -> /big/disk/x.cdump" stopped pointing anywhere
     * useful). A dangling link gets its file created.
     */
    @Test
    void aSymbolicLinkIsFollowed() throws Exception {
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        Path target = elsewhere.resolve("real.cdump");
        Files.writeString(target, "old");
        Path link = Files.createSymbolicLink(dir.resolve("latest.cdump"), target);
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.cdump"), Path.of("elsewhere", "new.cdump"));
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(100);
            allocator.dumpHeap(link);
            allocator.dumpHeap(dangling);
        }
        assertTrue(Files.isSymbolicLink(link), "the link is still a link");
        assertTrue(Files.isSymbolicLink(dangling));
        assertDump(target);
        assertDump(elsewhere.resolve("new.cdump"));
        try (var left = Files.list(elsewhere)) {
            assertEquals(2, left.count(), "no temporary file is left behind");
        }
    }
}
