package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dump's extension point ({@link DumpSection}, {@link DumpSink}): which kinds are accepted, where and how the
 * allocator frames a layer's section, and that a failing or misbehaving section leaves the allocator usable. The
 * frames are read here by hand (the reader lives in {@code tools}, which this module cannot see).
 */
class DumpSectionTest {

    @TempDir
    Path dir;

    /** A section that writes what {@code body} writes. */
    private record Section(int kind, Body body) implements DumpSection {
        @Override
        public void write(DumpSink out) throws IOException {
            body.write(out);
        }
    }

    private interface Body {
        void write(DumpSink out) throws IOException;
    }

    @Test
    void kindsOutsideTheExtensionRangeOrRepeatedAreRefused() {
        Body nothing = out -> { };
        for (int kind : new int[] {0, 9, 0xFF, 0x1_0000, -1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DumpOptions.DEFAULT.withSection(new Section(kind, nothing)), "kind " + kind);
            assertTrue(e.getMessage().contains("outside the extension range 0x100-0xffff"), e.getMessage());
        }
        DumpOptions one = DumpOptions.withContents().withSection(new Section(0x100, nothing));
        assertTrue(one.contents(), "withSection keeps the contents choice");
        assertEquals(1, one.sections().size());
        assertThrows(IllegalArgumentException.class, () -> one.withSection(new Section(0x100, nothing)));
        assertThrows(NullPointerException.class, () -> one.withSection(null));
        assertEquals(List.of(), DumpOptions.DEFAULT.sections());
        assertEquals(2, one.withSection(new Section(0xFFFF, nothing)).sections().size());
    }

    @Test
    void sectionsAreFramedInOrderAfterTheAllocatorsAndBeforeTheContents() throws Exception {
        Path path = dir.resolve("ext.cdump");
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(64);
            allocator.dumpHeap(path, DumpOptions.withContents()
                    .withSection(new Section(0x1234, out -> out.u8(0x1FF).u16(0x1ABCD).u32(-2).u64(Long.MIN_VALUE + 7)
                            .bytes(new byte[] {9, 8, 7}).string("héllo")))
                    .withSection(new Section(0x100, out -> { })));
        }
        List<int[]> frames = frames(Files.readAllBytes(path));
        List<Integer> kinds = frames.stream().map(f -> f[0]).toList();
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 0x1234, 0x100, 9, 0), kinds);
        byte[] bytes = Files.readAllBytes(path);
        int[] ext = frames.get(8);
        ByteBuffer body = ByteBuffer.wrap(bytes, ext[1], ext[2]).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1 + 2 + 4 + 8 + 3 + 2 + 6, ext[2], "body length: the values, \"héllo\" as 6 UTF-8 bytes");
        assertEquals((byte) 0xFF, body.get(), "u8 keeps the low 8 bits");
        assertEquals((short) 0xABCD, body.getShort(), "u16 keeps the low 16 bits");
        assertEquals(-2, body.getInt());
        assertEquals(Long.MIN_VALUE + 7, body.getLong());
        assertEquals(9, body.get());
        assertEquals(8, body.get());
        assertEquals(7, body.get());
        assertEquals(6, body.getShort());
        byte[] text = new byte[6];
        body.get(text);
        assertEquals("héllo", new String(text, StandardCharsets.UTF_8));
        assertEquals(0, frames.get(9)[2], "an empty section is a frame alone");
    }

    @Test
    void aSinkKeptPastItsSectionIsRefused() {
        AtomicReference<DumpSink> kept = new AtomicReference<>();
        try (Allocator allocator = Allocator.create()) {
            allocator.dumpHeap(dir.resolve("kept.cdump"), DumpOptions.DEFAULT.withSection(new Section(0x200, out -> {
                kept.set(out);
                out.u32(1);
            })));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> kept.get().u32(2));
        assertTrue(e.getMessage().contains("only inside its DumpSection.write"), e.getMessage());
    }

    @Test
    void aDumpReplacesTheFileWholeAndAFailedOneLeavesTheOldOne() throws Exception {
        // A reader holding the previous dump open keeps reading it whole (the new one is renamed over the name),
        // a dump that fails leaves the previous file as it was, and no temporary file is left behind.
        Path path = dir.resolve("heap.cdump");
        try (Allocator allocator = Allocator.create()) {
            long block = allocator.malloc(100);
            allocator.dumpHeap(path);
            byte[] first = Files.readAllBytes(path);
            try (var reader = java.nio.channels.FileChannel.open(path)) {
                for (int i = 0; i < 200; i++) {
                    allocator.malloc(64 + i);
                }
                allocator.dumpHeap(path);
                ByteBuffer old = ByteBuffer.allocate(first.length + 1);
                while (reader.read(old) > 0) {
                    // read it all
                }
                assertEquals(first.length, old.position(), "the open dump changed under its reader");
                assertArrayEquals(first, java.util.Arrays.copyOf(old.array(), first.length));
            }
            byte[] second = Files.readAllBytes(path);
            assertEquals(0, frames(second).getLast()[0], "the new dump is whole");
            assertThrows(IllegalStateException.class, () -> allocator.dumpHeap(path,
                    DumpOptions.DEFAULT.withSection(new Section(0x100, out -> {
                        throw new IllegalStateException("layer above gave up");
                    }))));
            assertArrayEquals(second, Files.readAllBytes(path), "a failed dump damaged the previous one");
            try (var files = Files.list(dir)) {
                assertEquals(List.of(path), files.toList(), "a temporary file was left behind");
            }
            allocator.free(block);
        }
    }

    @Test
    void aFailingSectionEndsTheDumpAndLeavesTheAllocatorUsable() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            IllegalStateException thrown = new IllegalStateException("layer above gave up");
            assertSame(thrown, assertThrows(IllegalStateException.class, () -> allocator.dumpHeap(
                    dir.resolve("fail.cdump"), DumpOptions.DEFAULT.withSection(new Section(0x100, out -> {
                        out.u64(1);
                        throw thrown;
                    })))));
            UncheckedIOException io = assertThrows(UncheckedIOException.class, () -> allocator.dumpHeap(
                    dir.resolve("io.cdump"), DumpOptions.DEFAULT.withSection(new Section(0x100, out -> {
                        throw new IOException("disk on fire");
                    }))));
            assertTrue(io.getMessage().contains("disk on fire"), io.getMessage());
            // A huge block's segment is given back at once, which waits for any dump still pinning the segments.
            long huge = allocator.malloc(40 << 20);
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> allocator.free(huge),
                    "the failed dumps unpinned the segments");
            Path good = dir.resolve("good.cdump");
            allocator.dumpHeap(good);
            assertEquals(0, frames(Files.readAllBytes(good)).getLast()[0], "a later dump is whole");
        }
    }

    /**
     * Every frame as {kind, body offset, body length}, checking each checksum (kind bytes, then body) and that the
     * file ends with the END frame.
     */
    private static List<int[]> frames(byte[] dump) {
        ByteBuffer in = ByteBuffer.wrap(dump).order(ByteOrder.LITTLE_ENDIAN);
        List<int[]> frames = new ArrayList<>();
        int position = in.getInt(12);
        Map<Integer, Integer> seen = new TreeMap<>();
        while (true) {
            int kind = in.getInt(position);
            int length = Math.toIntExact(in.getLong(position + 8));
            CRC32C crc = new CRC32C();
            crc.update(dump, position, 4);
            crc.update(dump, position + 16, length);
            assertEquals((int) crc.getValue(), in.getInt(position + 4), "checksum of kind " + kind);
            assertNull(seen.put(kind, position), "kind " + kind + " twice");
            frames.add(new int[] {kind, position + 16, length});
            position += 16 + length;
            if (kind == 0) {
                assertEquals(dump.length, position, "the file ends with END");
                return frames;
            }
        }
    }
}
