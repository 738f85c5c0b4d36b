package dev.cairn.tools.heapdump;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/**
 * An open heap dump: the file memory-mapped through the FFM API ({@link FileChannel#map} into an {@link Arena}),
 * parsed once into small records (segments, pages, heaps, sites, samples, the runtime's object types), with
 * bitmaps, block contents and object records read from the mapping on demand. Close it to unmap the file.
 *
 * <pre>{@code
 * try (HeapDump dump = HeapDump.open(path)) {
 *     dump.pages().forEach(p -> ...);
 * }
 * }</pre>
 */
public final class HeapDump implements AutoCloseable {

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final Builder parsed;

    private HeapDump(Path path, Arena arena, MemorySegment file, Builder parsed) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.parsed = parsed;
    }

    /**
     * Maps and parses {@code path}.
     *
     * @throws DumpFormatException the file is not a readable dump (empty, truncated, corrupted, foreign, newer)
     * @throws IOException the file cannot be opened or mapped, or is not a regular file
     */
    public static HeapDump open(Path path) throws IOException, DumpFormatException {
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            // only a file can be mapped: a directory failed with "No such device", a pipe read as an empty file, and
            // opening a FIFO that no one writes to blocked forever
            throw new FileSystemException(path.toString(), null, "not a regular file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return new HeapDump(path, arena, file, DumpParser.parse(file));
        } catch (IOException | DumpFormatException | RuntimeException | Error e) { // an OutOfMemoryError too
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public long fileSize() {
        return file.byteSize();
    }

    public DumpHeader header() {
        return parsed.header;
    }

    public List<SegmentInfo> segments() {
        return parsed.segments;
    }

    /** Pages in segment and index order, so in address order. */
    public List<PageInfo> pages() {
        return parsed.pages;
    }

    public List<HeapInfo> heaps() {
        return parsed.heaps;
    }

    /** Stats values by {@link DumpFormat#STAT_NAMES} order; empty when the dump has no stats section. */
    public long[] stats() {
        return parsed.stats == null ? new long[0] : parsed.stats.clone();
    }

    /** Segment bases of the abandoned pool. */
    public long[] abandonedPool() {
        return parsed.abandoned == null ? new long[0] : parsed.abandoned.clone();
    }

    public long[] delayedFrees() {
        return parsed.delayedFrees == null ? new long[0] : parsed.delayedFrees.clone();
    }

    /** 0 when sampling was off; 1 when every allocation was recorded. */
    public int sampleRate() {
        return parsed.sampleRate;
    }

    public List<Site> sites() {
        return parsed.sites == null ? List.of() : parsed.sites;
    }

    public List<Sample> samples() {
        return parsed.samples == null ? List.of() : parsed.samples;
    }

    /** The runtime's objects, when the runtime took the dump ({@code Interpreter.dumpHeap} or {@code Runtime}'s). */
    public Optional<ObjectsSection> objects() {
        return Optional.ofNullable(parsed.objects);
    }

    public SegmentInfo segmentOf(PageInfo page) {
        return parsed.segments.get(page.segment());
    }

    /** Whether block {@code index} of {@code page} was live. */
    public boolean isLive(PageInfo page, int index) {
        if (index < 0 || index >= page.capacity()) {
            return false;
        }
        long word = file.get(U64, page.bitmapOffset() + (long) (index >>> 6) * 8);
        return (word & (1L << index)) != 0;
    }

    /** The page holding {@code address} in its blocks, or null. */
    public PageInfo pageAt(long address) {
        List<PageInfo> pages = parsed.pages;
        int lo = 0;
        int hi = pages.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            PageInfo page = pages.get(mid);
            if (Long.compareUnsigned(address, page.start()) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(address, page.blocksEnd()) >= 0) {
                lo = mid + 1;
            } else {
                return page;
            }
        }
        return null;
    }

    /** The usable size of the live block starting at {@code address}, or -1 if no live block starts there. */
    public long liveBlockSize(long address) {
        PageInfo page = pageAt(address);
        if (page == null || (address - page.start()) % page.blockSize() != 0) {
            return -1;
        }
        long index = (address - page.start()) / page.blockSize();
        return index < page.capacity() && isLive(page, (int) index) ? page.blockSize() : -1;
    }

    /** The contents of the block at {@code address} (a read-only view of the mapping), or null when not dumped. */
    public MemorySegment contents(long address) {
        if (parsed.contents == null) {
            return null;
        }
        long[] where = parsed.contents.find(address);
        return where == null ? null : file.asSlice(where[0], where[1]).asReadOnly();
    }

    @Override
    public void close() {
        arena.close();
    }

    /** What the parser fills in. */
    static final class Builder {
        DumpHeader header;
        long[] stats;
        List<SegmentInfo> segments;
        List<PageInfo> pages;
        List<HeapInfo> heaps;
        long[] abandoned;
        long[] delayedFrees;
        int sampleRate;
        List<Site> sites;
        List<Sample> samples;
        ContentsIndex contents;
        ObjectsSection objects;
    }
}
