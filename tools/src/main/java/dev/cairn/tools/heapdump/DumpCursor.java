package dev.cairn.tools.heapdump;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A little-endian read cursor over one region of the mapped dump ({@code [position, limit)}). Every read is
 * checked against the limit first and fails with a {@link DumpFormatException} naming the file offset, so no
 * corrupt length ever reaches the mapping's own bounds checks; {@link #count} bounds a record count by the bytes
 * left before anything is allocated for it.
 */
final class DumpCursor {

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment file;
    private final String what;
    private long position;
    private final long limit;

    DumpCursor(MemorySegment file, long position, long limit, String what) {
        this.file = file;
        this.position = position;
        this.limit = limit;
        this.what = what;
    }

    long position() {
        return position;
    }

    long limit() {
        return limit;
    }

    long remaining() {
        return limit - position;
    }

    void skip(long bytes) throws DumpFormatException {
        need(bytes);
        position += bytes;
    }

    int u8() throws DumpFormatException {
        need(1);
        return file.get(ValueLayout.JAVA_BYTE, position++) & 0xFF;
    }

    int u16() throws DumpFormatException {
        need(2);
        int value = file.get(U16, position) & 0xFFFF;
        position += 2;
        return value;
    }

    /** A u32 as Java reads it (values above 2^31 are negative; callers that need counts use {@link #count}). */
    int u32() throws DumpFormatException {
        need(4);
        int value = file.get(U32, position);
        position += 4;
        return value;
    }

    long u64() throws DumpFormatException {
        need(8);
        long value = file.get(U64, position);
        position += 8;
        return value;
    }

    /** A u32 count of records of at least {@code minRecordBytes} each, proven to fit in what is left. */
    int count(String name, long minRecordBytes) throws DumpFormatException {
        long at = position;
        long count = u32() & 0xFFFF_FFFFL;
        if (count * Math.max(1, minRecordBytes) > remaining()) {
            throw new DumpFormatException(at, what + ": " + name + " count " + count + " needs at least "
                    + count * Math.max(1, minRecordBytes) + " bytes, only " + remaining() + " left");
        }
        return (int) count;
    }

    /** A u16-length-prefixed UTF-8 string. */
    String string() throws DumpFormatException {
        int length = u16();
        need(length);
        byte[] bytes = file.asSlice(position, length).toArray(ValueLayout.JAVA_BYTE);
        position += length;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    DumpFormatException error(long at, String problem) {
        return new DumpFormatException(at, what + ": " + problem);
    }

    private void need(long bytes) throws DumpFormatException {
        if (bytes < 0 || bytes > limit - position) {
            throw new DumpFormatException(position, what + " is truncated: needs " + bytes + " more bytes, "
                    + (limit - position) + " left");
        }
    }
}
