package dev.cairn.tools.heapdump;

import static dev.cairn.tools.heapdump.DumpFormat.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Parses a mapped dump into a {@link HeapDump}. Rules that keep bad input harmless: every read goes through a
 * {@link DumpCursor} bounded by its section; every count is proven to fit in the section before anything is
 * allocated for it; every cross-reference (page to segment, sample to site) is checked; every section's checksum is
 * verified before its body is parsed. The parser only moves forward, so it always ends.
 */
final class DumpParser {

    private final MemorySegment file;
    private final long size;
    private final HeapDump.Builder dump = new HeapDump.Builder();
    private final boolean[] seen = new boolean[OBJECTS + 1];

    private DumpParser(MemorySegment file) {
        this.file = file;
        this.size = file.byteSize();
    }

    static HeapDump.Builder parse(MemorySegment file) throws DumpFormatException {
        DumpParser parser = new DumpParser(file);
        parser.header();
        parser.sections();
        return parser.dump;
    }

    private void header() throws DumpFormatException {
        if (size == 0) {
            throw new DumpFormatException(0, "empty file");
        }
        DumpCursor in = new DumpCursor(file, 0, size, "header");
        byte[] magic = file.asSlice(0, Math.min(size, MAGIC.length)).toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new DumpFormatException(0, "not a Cairn heap dump (the file does not start with \"CAIRNDMP\")");
        }
        in.skip(MAGIC.length);
        int major = in.u16();
        int minor = in.u16();
        if (major != MAJOR) {
            throw new DumpFormatException(8, "format version " + major + "." + minor + " is not readable by this"
                    + " tool, which reads version " + MAJOR + ".x"
                    + (major > MAJOR ? " (a newer Cairn wrote it)" : ""));
        }
        if (size < HEADER_SIZE) {
            throw new DumpFormatException(size, "truncated: the header needs " + HEADER_SIZE + " bytes, the file has "
                    + size);
        }
        long headerSize = in.u32() & 0xFFFF_FFFFL;
        if (headerSize < HEADER_SIZE || headerSize > size) {
            throw new DumpFormatException(12, "header size " + headerSize + " is impossible (at least " + HEADER_SIZE
                    + ", file is " + size + " bytes)");
        }
        CRC32C crc = new CRC32C();
        crc.update(file.asSlice(0, HEADER_CRC_OFFSET).asByteBuffer());
        int stored = file.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN),
                HEADER_CRC_OFFSET);
        if ((int) crc.getValue() != stored) {
            throw new DumpFormatException(HEADER_CRC_OFFSET, "header checksum mismatch (corrupted header)");
        }
        int flags = in.u32();
        int osPageSize = in.u32();
        long segmentSize = in.u64();
        long commitUnit = in.u64();
        long time = in.u64();
        long domainId = in.u64();
        int[] shifts = {in.u8(), in.u8(), in.u8()};
        int binCount = in.u8();
        int sampleRate = in.u32();
        byte[] version = file.asSlice(64, 28).toArray(ValueLayout.JAVA_BYTE);
        int length = 0;
        while (length < version.length && version[length] != 0) {
            length++;
        }
        if (segmentSize <= 0 || Long.bitCount(segmentSize) != 1 || commitUnit <= 0 || binCount == 0) {
            throw new DumpFormatException(24, "header: segment size " + segmentSize + ", commit unit " + commitUnit
                    + ", " + binCount + " size classes: not a possible heap");
        }
        dump.header = new DumpHeader(major, minor, (int) headerSize, flags, osPageSize, segmentSize, commitUnit, time,
                domainId, shifts, binCount, sampleRate, new String(version, 0, length, StandardCharsets.US_ASCII));
    }

    private void sections() throws DumpFormatException {
        long position = dump.header.headerSize();
        while (true) {
            if (size - position < 16) {
                throw new DumpFormatException(position, "truncated: the file ends before its END section");
            }
            DumpCursor frame = new DumpCursor(file, position, size, "section frame");
            int kind = frame.u32();
            int crc = frame.u32();
            long length = frame.u64();
            long body = position + 16;
            if (length < 0 || length > size - body) {
                throw new DumpFormatException(position, "truncated: section of kind " + Integer.toUnsignedString(kind)
                        + " claims " + Long.toUnsignedString(length) + " bytes, " + (size - body) + " are left");
            }
            checkCrc(position, kind, body, length, crc);
            if (kind == END) {
                if (body + length != size) {
                    throw new DumpFormatException(body + length, (size - body - length) + " bytes after the END"
                            + " section");
                }
                break;
            }
            if ((kind > 0 && kind <= CONTENTS) || kind == OBJECTS) {
                if (seen[kind]) {
                    throw new DumpFormatException(position, "section of kind " + kind + " appears twice");
                }
                seen[kind] = true;
                section(kind, new DumpCursor(file, body, body + length,
                        kind == OBJECTS ? "objects section (kind " + OBJECTS + ")" : "section " + kind));
            } // unknown kinds are skipped: newer writers and other layers may add sections
            position = body + length;
        }
        for (int required : new int[] {SEGMENTS, PAGES, HEAPS}) {
            if (!seen[required]) {
                throw new DumpFormatException(position, "the dump has no section of kind " + required);
            }
        }
    }

    private void checkCrc(long frame, int kind, long body, long length, int expected) throws DumpFormatException {
        CRC32C crc = new CRC32C();
        crc.update(file.asSlice(frame, 4).asByteBuffer()); // the kind, as the writer checksums it
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(length - done, 1 << 30);
            ByteBuffer chunk = file.asSlice(body + done, n).asByteBuffer();
            crc.update(chunk);
            done += n;
        }
        if ((int) crc.getValue() != expected) {
            throw new DumpFormatException(frame + 4, "checksum mismatch in section of kind "
                    + Integer.toUnsignedString(kind) + " (" + length + " bytes at offset " + body + "): corrupted");
        }
    }

    private void section(int kind, DumpCursor in) throws DumpFormatException {
        switch (kind) {
            case STATS -> stats(in);
            case SEGMENTS -> segments(in);
            case PAGES -> pages(in);
            case HEAPS -> heaps(in);
            case ABANDONED -> dump.abandoned = addresses(in, "abandoned pool");
            case DELAYED_FREES -> dump.delayedFrees = addresses(in, "delayed frees");
            case SITES -> sites(in);
            case SAMPLES -> samples(in);
            case CONTENTS -> dump.contents = ContentsIndex.parse(in, file);
            case OBJECTS -> dump.objects = ObjectsParser.parse(in, file);
            default -> { }
        }
    }

    private void stats(DumpCursor in) throws DumpFormatException {
        int count = in.count("stats value", 0);
        in.u32();
        if ((long) count * 8 > in.remaining()) {
            throw in.error(in.position(), count + " stats values do not fit");
        }
        long[] values = new long[count];
        for (int i = 0; i < count; i++) {
            values[i] = in.u64();
        }
        dump.stats = values;
    }

    static int fixedSize(DumpCursor in, int known) throws DumpFormatException {
        long at = in.position();
        int fixed = in.u32();
        if (fixed < known || fixed > (1 << 16)) {
            throw in.error(at, "record size " + Integer.toUnsignedString(fixed) + " (this reader needs at least "
                    + known + ")");
        }
        return fixed;
    }

    private void segments(DumpCursor in) throws DumpFormatException {
        int count = in.count("segment", SEGMENT_FIXED);
        int fixed = fixedSize(in, SEGMENT_FIXED);
        List<SegmentInfo> segments = new ArrayList<>(Math.min(count, 1 << 16));
        for (int ordinal = 0; ordinal < count; ordinal++) {
            long at = in.position();
            long base = in.u64();
            long size = in.u64();
            int kind = in.u8();
            boolean abandoned = in.u8() != 0;
            in.u16();
            int pageShift = in.u32();
            int pageCount = in.u32();
            int firstPage = in.u32();
            int usedPages = in.u32();
            int heapId = in.u32();
            long ownerTid = in.u64();
            long abandonedNanos = in.u64();
            long metadata = in.u32() & 0xFFFF_FFFFL;
            int committedCount = in.u32();
            int purgedCount = in.u32();
            int pendingCount = in.u32();
            in.skip(fixed - SEGMENT_FIXED);
            // a first page outside the segment would send the html strip (and any walk from it) over 2^31 pages
            if (kind >= KINDS.length || pageShift < 12 || pageShift > 63 || pageCount <= 0 || size <= 0
                    || (kind != KIND_HUGE && (size >>> pageShift) != pageCount)
                    || firstPage < 0 || firstPage > pageCount) {
                throw in.error(at, "segment " + ordinal + " at 0x" + Long.toHexString(base) + ": kind " + kind
                        + ", page shift " + pageShift + ", " + pageCount + " pages in " + size
                        + " bytes, first page " + Integer.toUnsignedString(firstPage) + " is impossible");
            }
            if (!segments.isEmpty() && Long.compareUnsigned(base, segments.getLast().base()) <= 0) {
                throw in.error(at, "segments are not in address order at 0x" + Long.toHexString(base));
            }
            long ranges = (committedCount & 0xFFFF_FFFFL) + (purgedCount & 0xFFFF_FFFFL)
                    + (pendingCount & 0xFFFF_FFFFL);
            if (ranges * 16 > in.remaining()) {
                throw in.error(at, "segment " + ordinal + " claims " + ranges + " ranges, which do not fit");
            }
            segments.add(new SegmentInfo(ordinal, base, size, kind, abandoned, pageShift, pageCount, firstPage,
                    usedPages, heapId, ownerTid, abandonedNanos, metadata, ranges(in, committedCount, size),
                    ranges(in, purgedCount, size), ranges(in, pendingCount, size)));
        }
        dump.segments = segments;
    }

    private static long[] ranges(DumpCursor in, int count, long segmentSize) throws DumpFormatException {
        long[] ranges = new long[count * 2];
        for (int i = 0; i < ranges.length; i += 2) {
            long at = in.position();
            ranges[i] = in.u64();
            ranges[i + 1] = in.u64();
            if (ranges[i] < 0 || ranges[i + 1] <= 0 || ranges[i + 1] > segmentSize - ranges[i]) {
                throw in.error(at, "range [" + ranges[i] + ", +" + ranges[i + 1] + ") lies outside its segment of "
                        + segmentSize + " bytes");
            }
        }
        return ranges;
    }

    private void pages(DumpCursor in) throws DumpFormatException {
        if (dump.segments == null) {
            throw in.error(in.position(), "pages come before the segments section");
        }
        int count = in.count("page", PAGE_FIXED);
        int fixed = fixedSize(in, PAGE_FIXED);
        List<PageInfo> pages = new ArrayList<>(Math.min(count, 1 << 20));
        for (int i = 0; i < count; i++) {
            pages.add(page(in, fixed, pages.isEmpty() ? null : pages.getLast()));
        }
        dump.pages = pages;
    }

    private PageInfo page(DumpCursor in, int fixed, PageInfo previous) throws DumpFormatException {
        long at = in.position();
        int segment = in.u32();
        int index = in.u32();
        long start = in.u64();
        long blockSize = in.u64();
        int bin = in.u32();
        int flags = in.u16();
        int queue = in.u8();
        int listErrors = in.u8();
        int capacity = in.u32();
        int reserved = in.u32();
        int used = in.u32();
        int free = in.u32();
        int local = in.u32();
        int xthread = in.u32();
        int mismatches = in.u32();
        int words = in.u32();
        int ownerHeap = -1; // before 1.2: the segment's heap (below)
        int ownerKind = OWNER_SEGMENT;
        if (fixed >= PAGE_OWNER_FIXED) {
            ownerHeap = in.u32();
            ownerKind = in.u8();
            in.skip(3);
            in.skip(fixed - PAGE_OWNER_FIXED);
        } else {
            in.skip(fixed - PAGE_FIXED);
        }
        if (segment < 0 || segment >= dump.segments.size()) {
            throw in.error(at, "page refers to segment " + Integer.toUnsignedString(segment) + " of "
                    + dump.segments.size());
        }
        SegmentInfo owner = dump.segments.get(segment);
        // (A page lent to its segment's own heap is a race of a best-effort dump, or damage: validate reports it.)
        if (ownerKind > OWNER_POOLED || (ownerKind == OWNER_POOLED && ownerHeap != 0)
                || (ownerKind == OWNER_LENT && ownerHeap == 0)) {
            throw in.error(at, "page " + index + " of segment 0x" + Long.toHexString(owner.base()) + ": owner kind "
                    + ownerKind + " with heap " + Integer.toUnsignedString(ownerHeap) + ": impossible");
        }
        if (ownerHeap == -1) {
            ownerHeap = owner.heapId();
        }
        if (index < 0 || index >= owner.pageCount()) {
            throw in.error(at, "page index " + Integer.toUnsignedString(index) + " outside the "
                    + owner.pageCount() + " pages of segment 0x" + Long.toHexString(owner.base()));
        }
        if (previous != null && (segment < previous.segment()
                || (segment == previous.segment() && index <= previous.index()))) {
            throw in.error(at, "pages are not in segment and index order");
        }
        if (bin < -1 || bin >= dump.header.binCount() || blockSize <= 0 || capacity < 0
                || words != (int) ((capacity + 63L) >>> 6)) {
            throw in.error(at, "page " + index + " of segment 0x" + Long.toHexString(owner.base()) + ": bin " + bin
                    + ", block size " + blockSize + ", capacity " + capacity + ", " + Integer.toUnsignedString(words)
                    + " bitmap words: impossible");
        }
        if ((long) words * 8 > in.remaining()) {
            throw in.error(at, "page bitmap of " + words + " words does not fit");
        }
        long bitmap = in.position();
        long live = 0;
        for (int w = 0; w < words; w++) {
            long word = in.u64();
            int valid = (int) Math.min(64, capacity - (long) w * 64);
            if (valid < 64 && (word >>> valid) != 0) {
                throw in.error(in.position() - 8, "live bits past the page's capacity of " + capacity);
            }
            live += Long.bitCount(word);
        }
        return new PageInfo(segment, index, start, blockSize, bin, flags, queue, listErrors, capacity, reserved, used,
                free, local, xthread, mismatches, live, bitmap, words, ownerHeap, ownerKind);
    }

    private void heaps(DumpCursor in) throws DumpFormatException {
        int count = in.count("heap", HEAP_FIXED + 2);
        int fixed = fixedSize(in, HEAP_FIXED);
        List<HeapInfo> heaps = new ArrayList<>(Math.min(count, 1 << 16));
        for (int i = 0; i < count; i++) {
            int id = in.u32();
            int flags = in.u32();
            long tid = in.u64();
            long slow = in.u64();
            long retired = in.u64();
            in.u64();
            in.skip(fixed - HEAP_FIXED);
            heaps.add(new HeapInfo(id, flags, tid, slow, retired, in.string()));
        }
        dump.heaps = heaps;
    }

    private static long[] addresses(DumpCursor in, String name) throws DumpFormatException {
        int count = in.count(name + " entry", 8);
        in.u32();
        if ((long) count * 8 > in.remaining()) {
            throw in.error(in.position(), count + " " + name + " entries do not fit");
        }
        long[] values = new long[count];
        for (int i = 0; i < count; i++) {
            values[i] = in.u64();
        }
        return values;
    }

    private void sites(DumpCursor in) throws DumpFormatException {
        int rate = in.u32();
        int count = in.count("site", 4);
        List<Site> sites = new ArrayList<>(Math.min(count, 1 << 16));
        for (int id = 0; id < count; id++) {
            int frames = in.count("frame", 2);
            List<String> list = new ArrayList<>(Math.min(frames, 256));
            for (int f = 0; f < frames; f++) {
                list.add(in.string());
            }
            sites.add(new Site(id, List.copyOf(list)));
        }
        dump.sampleRate = rate;
        dump.sites = sites;
    }

    private void samples(DumpCursor in) throws DumpFormatException {
        if (dump.sites == null) {
            throw in.error(in.position(), "samples come before the sites section");
        }
        int count = in.count("sample", SAMPLE_FIXED);
        int fixed = fixedSize(in, SAMPLE_FIXED);
        List<Sample> samples = new ArrayList<>(Math.min(count, 1 << 20));
        for (int i = 0; i < count; i++) {
            long at = in.position();
            Sample sample = new Sample(in.u64(), in.u64(), in.u32(), in.u32());
            in.skip(fixed - SAMPLE_FIXED);
            if (sample.site() < 0 || sample.site() >= dump.sites.size()) {
                throw in.error(at, "sample refers to site " + Integer.toUnsignedString(sample.site()) + " of "
                        + dump.sites.size());
            }
            samples.add(sample);
        }
        dump.samples = samples;
    }
}
