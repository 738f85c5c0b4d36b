package dev.cairn.alloc.internal;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * A little-endian, buffered writer of dump sections. {@link #beginSection} writes the frame with a zero length and
 * checksum; {@link #endSection} flushes and patches both in place, so sections of any size (block contents) stream
 * through a 1 MiB buffer without being held in memory. The checksum is accumulated as the buffer drains.
 */
final class DumpOutput implements AutoCloseable {

    private static final int BUFFER_SIZE = 1 << 20;

    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    /** File position of the current section's frame, or -1 outside a section. */
    private long sectionStart = -1;
    private long written;

    DumpOutput(FileChannel channel) {
        this.channel = channel;
    }

    long position() {
        return written + buffer.position();
    }

    DumpOutput u8(int value) throws IOException {
        room(1).put((byte) value);
        return this;
    }

    DumpOutput u16(int value) throws IOException {
        room(2).putShort((short) value);
        return this;
    }

    DumpOutput u32(int value) throws IOException {
        room(4).putInt(value);
        return this;
    }

    DumpOutput u64(long value) throws IOException {
        room(8).putLong(value);
        return this;
    }

    DumpOutput bytes(byte[] value) throws IOException {
        for (int done = 0; done < value.length; ) {
            int n = Math.min(value.length - done, room(1).remaining());
            buffer.put(value, done, n);
            done += n;
        }
        return this;
    }

    /** A u16 length, then the UTF-8 bytes (cut to 65,535 bytes). */
    DumpOutput string(String value) throws IOException {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(utf8.length, 0xFFFF);
        u16(length);
        if (length < utf8.length) {
            utf8 = java.util.Arrays.copyOf(utf8, length);
        }
        return bytes(utf8);
    }

    /** Copies off-heap bytes (block contents) through the buffer. */
    DumpOutput memory(MemorySegment source) throws IOException {
        for (long done = 0; done < source.byteSize(); ) {
            int n = (int) Math.min(source.byteSize() - done, room(1).remaining());
            // ofBuffer's segment starts at the buffer's position
            MemorySegment.ofBuffer(buffer).asSlice(0, n).copyFrom(source.asSlice(done, n));
            buffer.position(buffer.position() + n);
            done += n;
        }
        return this;
    }

    void beginSection(int kind) throws IOException {
        sectionStart = position();
        u32(kind).u32(0).u64(0);
        crc.reset();
        // The kind is checksummed with the body: a corrupted kind must not turn a section into a skipped one.
        crc.update(new byte[] {(byte) kind, (byte) (kind >>> 8), (byte) (kind >>> 16), (byte) (kind >>> 24)});
        drain(); // the frame is not part of the checksum: drain it before any body byte
    }

    void endSection() throws IOException {
        drain();
        long length = written - sectionStart - 16;
        ByteBuffer patch = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        patch.putInt((int) crc.getValue()).putLong(length).flip();
        while (patch.hasRemaining()) {
            channel.write(patch, sectionStart + 4 + patch.position());
        }
        sectionStart = -1;
    }

    private ByteBuffer room(int bytes) throws IOException {
        if (buffer.remaining() < bytes) {
            drain();
        }
        return buffer;
    }

    private void drain() throws IOException {
        buffer.flip();
        int bodyFrom = 0;
        if (sectionStart >= 0 && written < sectionStart + 16) {
            bodyFrom = (int) Math.min(buffer.limit(), sectionStart + 16 - written);
        }
        if (sectionStart >= 0 && bodyFrom < buffer.limit()) {
            crc.update(buffer.duplicate().position(bodyFrom));
        }
        while (buffer.hasRemaining()) {
            written += channel.write(buffer);
        }
        buffer.clear();
    }

    /** Writes the header checksum over the first {@code length} bytes (which must still be in the buffer). */
    void patchHeaderCrc(int length, int crcOffset) {
        CRC32C header = new CRC32C();
        header.update(buffer.duplicate().flip().limit(length));
        buffer.putInt(crcOffset, (int) header.getValue());
    }

    @Override
    public void close() throws IOException {
        drain();
    }
}
