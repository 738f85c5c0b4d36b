package dev.cairn.tools.heapdump;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Test helper: a dump as bytes, to corrupt on purpose. {@link #fixChecksums} recomputes the header and section
 * checksums after a change, so a test (or the fuzzer) can reach the parser's and validator's semantic checks
 * instead of stopping at the checksum.
 */
public final class DumpBytes {

    private DumpBytes() {
    }

    /** File offset of the body of the first section of {@code kind}, or -1. Walks frames only while they fit. */
    public static int sectionBody(byte[] dump, int kind) {
        ByteBuffer in = ByteBuffer.wrap(dump).order(ByteOrder.LITTLE_ENDIAN);
        long position = DumpFormat.HEADER_SIZE;
        while (position + 16 <= dump.length) {
            int k = in.getInt((int) position);
            long length = in.getLong((int) position + 8);
            if (k == kind) {
                return (int) position + 16;
            }
            if (length < 0 || length > dump.length - position - 16 || k == DumpFormat.END) {
                return -1;
            }
            position += 16 + length;
        }
        return -1;
    }

    /**
     * File offset of the first object record of the OBJECTS section (past its head and its type table), or -1 when
     * the dump has none. Offset - 8 is the object count, offset - 4 the record size.
     */
    public static int objectRecords(byte[] dump) {
        int body = sectionBody(dump, DumpFormat.OBJECTS);
        if (body < 0) {
            return -1;
        }
        ByteBuffer in = ByteBuffer.wrap(dump).order(ByteOrder.LITTLE_ENDIAN);
        int types = in.getInt(body + 16);
        int fixed = in.getInt(body + 20);
        int at = body + 24;
        for (int i = 0; i < types; i++) {
            at += fixed;
            at += 2 + (in.getShort(at) & 0xFFFF);
        }
        return at + 8;
    }

    /**
     * The dump as format 1.1 wrote it: minor version 1, and PAGES records of 64 fixed bytes, without the page owner
     * that 1.2 appended (checksums fixed).
     */
    public static byte[] withoutPageOwners(byte[] dump) {
        ByteBuffer in = ByteBuffer.wrap(dump).order(ByteOrder.LITTLE_ENDIAN);
        int body = sectionBody(dump, DumpFormat.PAGES);
        int count = in.getInt(body);
        int fixed = in.getInt(body + 4);
        if (fixed != DumpFormat.PAGE_OWNER_FIXED) {
            throw new IllegalArgumentException("not a 1.2 page section: fixed size " + fixed);
        }
        java.io.ByteArrayOutputStream pages = new java.io.ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(count)
                .putInt(DumpFormat.PAGE_FIXED);
        pages.write(head.array(), 0, 8);
        int at = body + 8;
        for (int i = 0; i < count; i++) {
            int words = in.getInt(at + 60);
            pages.write(dump, at, DumpFormat.PAGE_FIXED);
            pages.write(dump, at + fixed, words * 8);
            at += fixed + words * 8;
        }
        byte[] section = pages.toByteArray();
        long oldLength = in.getLong(body - 8);
        byte[] out = new byte[dump.length - (int) oldLength + section.length];
        System.arraycopy(dump, 0, out, 0, body);
        System.arraycopy(section, 0, out, body, section.length);
        System.arraycopy(dump, body + (int) oldLength, out, body + section.length,
                dump.length - body - (int) oldLength);
        ByteBuffer result = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        result.putLong(body - 8, section.length);
        result.putShort(10, (short) 1);
        fixChecksums(out);
        return out;
    }

    /** Recomputes the header checksum and every section checksum whose frame still fits in the file. */
    public static void fixChecksums(byte[] dump) {
        ByteBuffer buffer = ByteBuffer.wrap(dump).order(ByteOrder.LITTLE_ENDIAN);
        if (dump.length >= DumpFormat.HEADER_SIZE) {
            CRC32C crc = new CRC32C();
            crc.update(dump, 0, DumpFormat.HEADER_CRC_OFFSET);
            buffer.putInt(DumpFormat.HEADER_CRC_OFFSET, (int) crc.getValue());
        }
        long position = dump.length >= 16 ? Math.max(DumpFormat.HEADER_SIZE, headerSize(buffer, dump.length)) : 0;
        while (position > 0 && position + 16 <= dump.length) {
            long length = buffer.getLong((int) position + 8);
            if (length < 0 || length > dump.length - position - 16) {
                return;
            }
            CRC32C crc = new CRC32C();
            crc.update(dump, (int) position, 4);
            crc.update(dump, (int) position + 16, (int) length);
            buffer.putInt((int) position + 4, (int) crc.getValue());
            if (buffer.getInt((int) position) == DumpFormat.END) {
                return;
            }
            position += 16 + length;
        }
    }

    private static long headerSize(ByteBuffer buffer, int length) {
        long size = buffer.getInt(12) & 0xFFFF_FFFFL;
        return size <= length ? size : -1;
    }
}
