package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.DumpFormat.*;
import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.alloc.AllocatorStats;
import dev.cairn.alloc.DumpOptions;
import dev.cairn.alloc.DumpSection;
import dev.cairn.alloc.internal.size.SizeClasses;
import dev.cairn.segments.SegmentStats;
import dev.cairn.segments.raw.Raw;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a heap dump (format: {@link DumpFormat}, spec: {@code docs/heap-dump-format.md}).
 *
 * <p>Consistency: the whole dump is written while the segment store is pinned (no segment can be given back), so
 * every read is of mapped memory. Nothing inside the pin may wait for a lock whose holder may give a segment back
 * (the registry's monitor: see {@link #write(DumpOptions)}), or the two wait for each other. Pages of other threads' heaps are read without synchronization, as
 * {@link HeapWalker} does: every free-list walk is bounded by the page's capacity and follows only links that are
 * carved blocks of the page, so a racing owner can make a page's counts disagree but never makes the dump loop or
 * leave the page. The header says {@link DumpFormat#FLAG_BEST_EFFORT} whenever a heap of another thread was open;
 * a dump taken with every other heap quiet (or closed) is an exact picture.
 */
final class HeapDumper {

    private final AllocatorImpl allocator;
    private final SegmentStore store;
    private final DumpOutput out;
    private final boolean checked;
    /**
     * Page descriptor → queue kind ({@link DumpFormat#QUEUE_BIN} or {@link DumpFormat#QUEUE_FULL}), keyed by
     * {@link #queueKey}: descriptor addresses share their low seven bits, which is all a small table's index reads.
     */
    private final Map<Long, Integer> queues = new HashMap<>();
    /** Page snapshots kept for the contents section, so it writes exactly the blocks PAGES says are live. */
    private final List<PageSnapshot> kept;
    /** Blocks found pending a delayed free while the pages were read (checked mode: the bitmaps show them). */
    private final List<Long> pendingDelayed = new ArrayList<>();

    private HeapDumper(AllocatorImpl allocator, DumpOutput out, boolean contents) {
        this.allocator = allocator;
        this.store = allocator.store();
        this.out = out;
        this.checked = allocator.checked();
        this.kept = contents ? new ArrayList<>() : null;
    }

    /** Numbers this JVM's temporary dump files: two dumps under way (one nested in a section's) never share one. */
    private static final java.util.concurrent.atomic.AtomicLong TEMPORARIES =
            new java.util.concurrent.atomic.AtomicLong();
    /** Characters of the target's name kept in the temporary's, so it fits wherever the target's name does. */
    private static final int TEMPORARY_NAME_CHARS = 64;

    /**
     * Writes the dump to a temporary file next to {@code path} and renames it over {@code path} when complete, so a
     * reader of {@code path} (the inspect tool, a dump taken every minute) sees the old dump or the new one, never
     * half of one; a symbolic link is followed to the file it names. A path that exists and is not a regular file (a
     * pipe, a device) gets the finished file copied into it: the writer patches each section's frame once its body
     * is written, which a pipe cannot take. A pending interrupt of the calling thread does not stop the dump (the
     * file channel would close at its first write: a worker closing its allocator in a {@code finally} after an
     * interrupt lost its dump on close); it is pending again afterwards.
     */
    static void write(AllocatorImpl allocator, Path path, DumpOptions options) {
        Path file = followLinks(path);
        boolean stream = java.nio.file.Files.exists(file) && !java.nio.file.Files.isRegularFile(file);
        boolean interrupted = Thread.interrupted();
        Path target = null;
        try {
            target = stream ? java.nio.file.Files.createTempFile("cairn-dump-", ".tmp") : temporary(file);
            try (FileChannel channel = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING); DumpOutput out = new DumpOutput(channel)) {
                new HeapDumper(allocator, out, options.contents()).write(options);
            }
            if (stream) {
                try (java.io.OutputStream to = java.nio.file.Files.newOutputStream(file, StandardOpenOption.WRITE)) {
                    java.nio.file.Files.copy(target, to);
                }
                deleteTemporary(target);
            } else {
                java.nio.file.Files.move(target, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            deleteTemporary(target);
            throw new UncheckedIOException("Cairn: cannot write the heap dump " + path + ": " + reason(e), e);
        } catch (RuntimeException | Error e) {
            deleteTemporary(target);
            throw e;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The file a symbolic link names, through a chain of them (bounded: a loop fails when opened): the rename would
     * otherwise replace the link itself and leave the file it names stale. A link's relative target is relative to
     * the link's directory.
     */
    private static Path followLinks(Path path) {
        Path current = path;
        for (int hops = 0; hops < 40 && java.nio.file.Files.isSymbolicLink(current); hops++) {
            try {
                current = current.resolveSibling(java.nio.file.Files.readSymbolicLink(current));
            } catch (IOException | RuntimeException e) {
                return current; // the write names the failure
            }
        }
        return current;
    }

    /**
     * Next to {@code path} (the same file system, so the rename is atomic), hidden, and short enough for any name the
     * target may have: a name of 250 bytes plus a suffix went past the 255 the file system allows.
     */
    private static Path temporary(Path path) {
        String name = String.valueOf(path.getFileName());
        if (name.length() > TEMPORARY_NAME_CHARS) {
            int cut = Character.isHighSurrogate(name.charAt(TEMPORARY_NAME_CHARS - 1)) ? TEMPORARY_NAME_CHARS - 1
                    : TEMPORARY_NAME_CHARS;
            name = name.substring(0, cut);
        }
        return path.resolveSibling("." + name + ".tmp-" + ProcessHandle.current().pid() + "-"
                + TEMPORARIES.incrementAndGet());
    }

    /** Why writing failed, in words: a {@code NoSuchFileException}'s message is only the (temporary) file's name. */
    static String reason(IOException e) {
        if (e instanceof java.nio.channels.ClosedByInterruptException) {
            return "interrupted while writing";
        }
        if (e instanceof java.nio.file.FileSystemException f) {
            String why = f.getReason() != null ? f.getReason()
                    : f instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                    : f instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : f instanceof java.nio.file.FileAlreadyExistsException ? "file exists"
                    : f.getClass().getSimpleName();
            return f.getFile() == null ? why : why + " (" + f.getFile() + ")";
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    private static void deleteTemporary(Path target) {
        if (target != null) {
            try {
                java.nio.file.Files.deleteIfExists(target);
            } catch (IOException ignored) {
                // the dump's own failure is what the caller needs to see
            }
        }
    }

    private void write(DumpOptions options) throws IOException {
        // Before the pin: the stats read the registry's counters under its monitor, and a thread holding that
        // monitor (releasing or reaping a heap, closing an arena) may be waiting to give a segment back, which the
        // pin holds off: taken inside the pin, the two waited for each other forever.
        AllocatorStats stats = HeapWalker.stats(allocator);
        store.pin();
        try {
            long[] bases = store.liveBases();
            header(options);
            stats(stats);
            segments(bases);
            collectQueues(bases.length);
            pages(bases);
            heaps();
            addresses(ABANDONED, allocator.pool().bases());
            addresses(DELAYED_FREES, pendingDelayed.stream().mapToLong(Long::longValue).toArray());
            sites();
            extensions(options);
            if (options.contents()) {
                contents();
            }
            out.beginSection(END);
            out.endSection();
        } finally {
            store.unpin();
        }
    }

    // ------------------------------------------------------------------------------------------------ header

    private void header(DumpOptions options) throws IOException {
        SiteSampler sampler = allocator.sites();
        long self = Thread.currentThread().threadId();
        boolean others = false;
        for (HeapImpl heap : allocator.heaps()) {
            others |= !heap.closed && heap.ownerTid() != self;
        }
        int flags = (others ? FLAG_BEST_EFFORT : 0) | (options.contents() ? FLAG_CONTENTS : 0)
                | (checked ? FLAG_CHECKED : 0) | (sampler != null ? FLAG_SAMPLING : 0);
        out.bytes(MAGIC).u16(MAJOR).u16(MINOR).u32(DUMP_HEADER_SIZE).u32(flags).u32((int) store.space().pageSize())
                .u64(store.segmentSize()).u64(store.commitUnit()).u64(System.currentTimeMillis())
                .u64(allocator.domainId())
                .u8(Kind.SMALL.pageShift).u8(Kind.MEDIUM.pageShift).u8(Kind.LARGE.pageShift).u8(SizeClasses.BIN_COUNT)
                .u32(sampler == null ? 0 : sampler.rate());
        byte[] version = java.util.Arrays.copyOf(CAIRN_VERSION.getBytes(StandardCharsets.US_ASCII),
                VERSION_FIELD_SIZE);
        out.bytes(version).u32(0); // the checksum's place, patched while the header is still in the buffer
        out.patchHeaderCrc(HEADER_CRC_OFFSET, HEADER_CRC_OFFSET);
    }

    // ------------------------------------------------------------------------------------------------ stats

    private void stats(AllocatorStats stats) throws IOException {
        SegmentStats os = store.space().stats();
        long[] values = {os.reservedBytes(), os.peakReservedBytes(), os.committedBytes(), os.peakCommittedBytes(),
                os.purgedBytes(), stats.allocatedBytes(), stats.blocksInUse(), stats.pages(), stats.remoteFrees(),
                stats.slowPathCalls(), stats.liveSegments(), stats.cachedSegments(), stats.heapsLive()};
        out.beginSection(STATS);
        out.u32(values.length).u32(0);
        for (long value : values) {
            out.u64(value);
        }
        out.endSection();
    }

    // ------------------------------------------------------------------------------------------------ segments

    private void segments(long[] bases) throws IOException {
        out.beginSection(SEGMENTS);
        out.u32(bases.length).u32(SEGMENT_FIXED);
        for (long base : bases) {
            segment(base);
        }
        out.endSection();
    }

    private void segment(long base) throws IOException {
        int kind = Raw.getInt(base + SEG_KIND);
        int pageCount = Raw.getInt(base + SEG_PAGE_COUNT);
        long size = Raw.getLong(base + SEG_SIZE);
        long unit = store.commitUnit();
        List<long[]> committed = new ArrayList<>();
        for (long offset = 0; offset < size; offset += unit) {
            if (store.isCommitted(base, offset, unit)) {
                addRange(committed, offset, unit);
            }
        }
        List<long[]> purged = new ArrayList<>();
        List<long[]> pending = new ArrayList<>();
        if (kind != Kind.HUGE.ordinal()) {
            int shift = Raw.getInt(base + SEG_PAGE_SHIFT);
            long metaEnd = metadataSize(pageCount);
            long osPage = store.space().pageSize();
            for (int index = Raw.getInt(base + SEG_FIRST_PAGE); index < pageCount; index++) {
                long page = descriptor(base, index);
                // The first page may start right after the metadata, mid OS page: what a purge gives back starts at
                // the next OS page (SegmentStore.purge), and the segment layer takes whole OS pages only.
                long from = align(Math.max((long) index << shift, metaEnd), osPage);
                long to = (long) (index + 1) << shift;
                if (Raw.getLongAcquire(page + BLOCKS_BYTES) != 0 || !store.isCommitted(base, from, to - from)) {
                    continue;
                }
                // Committed but unformatted: retired. Its memory is gone once the delayed purge has run.
                addRange((Raw.getShort(page + FLAGS) & FLAG_PURGE_PENDING) != 0 ? pending : purged, from, to - from);
            }
        }
        boolean abandoned = kind != Kind.HUGE.ordinal() && allocator.pool().contains(base);
        // a huge block outlives the heap that allocated it (released, or its thread ended): its segment still names
        // that heap, which the HEAPS section no longer lists
        boolean orphan = kind == Kind.HUGE.ordinal() && allocator.isOrphanHuge(base);
        long abandonedFor = abandoned ? Math.max(0, System.nanoTime() - Raw.getLong(base + SEG_ABANDONED_AT)) : 0;
        out.u64(base).u64(size).u8(kind).u8(abandoned ? 1 : 0).u16(0)
                .u32(Raw.getInt(base + SEG_PAGE_SHIFT)).u32(pageCount).u32(Raw.getInt(base + SEG_FIRST_PAGE))
                .u32(Raw.getInt(base + SEG_USED_PAGES)).u32(orphan ? 0 : Raw.getInt(base + SEG_HEAP_ID))
                .u64(orphan ? NO_OWNER : Raw.getLong(base + SEG_OWNER_TID)).u64(abandonedFor)
                .u32((int) metadataSize(pageCount)).u32(committed.size()).u32(purged.size()).u32(pending.size());
        for (List<long[]> ranges : List.of(committed, purged, pending)) {
            for (long[] range : ranges) {
                out.u64(range[0]).u64(range[1]);
            }
        }
    }

    private static void addRange(List<long[]> ranges, long offset, long length) {
        long[] last = ranges.isEmpty() ? null : ranges.getLast();
        if (last != null && last[0] + last[1] == offset) {
            last[1] += length;
        } else {
            ranges.add(new long[] {offset, length});
        }
    }

    // ------------------------------------------------------------------------------------------------ pages

    /** Descriptors are 128 bytes on 128-byte boundaries: the address without its zero low bits, one per page. */
    private static long queueKey(long page) {
        return page >>> 7;
    }

    /** Which queue each page is in, walking every heap's queues with a bound (another thread may relink them). */
    private void collectQueues(int segments) {
        long bound = (long) segments * (store.segmentSize() >>> Kind.SMALL.pageShift) + 1;
        for (HeapImpl heap : allocator.heaps()) {
            for (boolean full : new boolean[] {false, true}) {
                for (int bin = 0; bin < SizeClasses.BIN_COUNT; bin++) {
                    long page = heap.queueHead(bin, full);
                    for (long steps = 0; page != 0 && steps < bound; steps++) {
                        queues.put(queueKey(page), full ? QUEUE_FULL : QUEUE_BIN);
                        page = Raw.getLong(page + NEXT);
                    }
                }
            }
        }
    }

    private void pages(long[] bases) throws IOException {
        // Snapshots first, so the count written is exact even if another thread formats or retires a page meanwhile.
        List<PageSnapshot> snapshots = new ArrayList<>();
        List<int[]> where = new ArrayList<>(); // {segment ordinal, page index}
        List<Long> descriptors = new ArrayList<>();
        for (int ordinal = 0; ordinal < bases.length; ordinal++) {
            long base = bases[ordinal];
            for (int index = 0, n = Raw.getInt(base + SEG_PAGE_COUNT); index < n; index++) {
                long page = descriptor(base, index);
                if (Raw.getLongAcquire(page + BLOCKS_BYTES) == 0) { // partner: release store in Pages.format
                    continue;
                }
                PageSnapshot snapshot = PageSnapshot.take(base, index, page, checked);
                if (snapshot != null && snapshot.pendingDelayed != null) {
                    for (int word = 0; word < snapshot.pendingDelayed.length; word++) {
                        for (long bits = snapshot.pendingDelayed[word]; bits != 0; bits &= bits - 1) {
                            int block = word * 64 + Long.numberOfTrailingZeros(bits);
                            pendingDelayed.add(snapshot.start + block * snapshot.blockSize);
                        }
                    }
                }
                if (snapshot != null) {
                    snapshots.add(snapshot);
                    where.add(new int[] {ordinal, index});
                    descriptors.add(page);
                }
            }
        }
        out.beginSection(PAGES);
        out.u32(snapshots.size()).u32(PAGE_FIXED);
        for (int i = 0; i < snapshots.size(); i++) {
            page(where.get(i)[0], where.get(i)[1], descriptors.get(i), snapshots.get(i));
        }
        out.endSection();
        if (kept != null) {
            kept.addAll(snapshots);
        }
    }

    private void page(int segmentOrdinal, int index, long page, PageSnapshot p) throws IOException {
        out.u32(segmentOrdinal).u32(index).u64(p.start).u64(p.blockSize).u32(p.bin)
                .u16(p.flags).u8(queues.getOrDefault(queueKey(page), QUEUE_NONE)).u8(p.listErrors)
                .u32(p.capacity).u32(p.reserved).u32(p.used)
                .u32(p.free).u32(p.local).u32(p.xthread).u32(p.mismatches).u32(p.live.length);
        // 64 (1.2): the page's owner, which the page pool lets differ from its segment's
        long segment = page & -store.segmentSize();
        int ownerKind;
        int ownerHeap;
        if (isPooled(p.ownerTid)) {
            ownerKind = PAGE_OWNER_POOLED;
            ownerHeap = 0;
        } else if (p.ownerTid == NO_OWNER || (p.bin < 0 && allocator.isOrphanHuge(segment))) {
            ownerKind = PAGE_OWNER_SEGMENT; // nobody's, with its segment (abandoned, or an orphan huge block)
            ownerHeap = 0;
        } else {
            int segmentHeap = Raw.getInt(segment + SEG_HEAP_ID);
            // Heap 0 with an owner: read across a move (the pool writes the heap, then the owner), in a best-effort
            // dump only; the segment's heap stands in, as before 1.2.
            ownerHeap = p.ownerHeap == 0 ? segmentHeap : p.ownerHeap;
            ownerKind = ownerHeap == segmentHeap ? PAGE_OWNER_SEGMENT : PAGE_OWNER_LENT;
        }
        out.u32(ownerHeap).u8(ownerKind).u8(0).u16(0);
        for (long word : p.live) {
            out.u64(word);
        }
    }

    // ------------------------------------------------------------------------------------------------ heaps, sites

    private void heaps() throws IOException {
        List<HeapImpl> heaps = new ArrayList<>();
        allocator.heaps().forEach(heaps::add);
        heaps.sort(java.util.Comparator.comparingInt(HeapImpl::id));
        out.beginSection(HEAPS);
        out.u32(heaps.size()).u32(HEAP_FIXED);
        for (HeapImpl heap : heaps) {
            out.u32(heap.id()).u32((heap.closed ? HEAP_CLOSED : 0) | heap.tag() << HEAP_TAG_SHIFT).u64(heap.ownerTid()).u64(heap.slowPathCalls)
                    .u64(heap.pagesRetired).u64(0); // 32: reserved for the abandonment time (issue 4)
            out.string(heap.threadName());
        }
        out.endSection();
    }

    /** A section that is a list of addresses: the abandoned pool's segments, the pending delayed frees. */
    private void addresses(int kind, long[] addresses) throws IOException {
        out.beginSection(kind);
        out.u32(addresses.length).u32(0);
        for (long address : addresses) {
            out.u64(address);
        }
        out.endSection();
    }

    private void sites() throws IOException {
        SiteSampler sampler = allocator.sites();
        // Samples before sites: sites only grow, so every sample's site id is below the count written.
        List<long[]> samples = sampler == null ? new ArrayList<>() : sampler.samples();
        List<String[]> sites = sampler == null ? List.of() : sampler.sites();
        out.beginSection(SITES);
        out.u32(sampler == null ? 0 : sampler.rate()).u32(sites.size());
        for (String[] frames : sites) {
            out.u32(frames.length);
            for (String frame : frames) {
                out.string(frame);
            }
        }
        out.endSection();
        samples.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        out.beginSection(SAMPLES);
        out.u32(samples.size()).u32(SAMPLE_FIXED);
        for (long[] s : samples) {
            out.u64(s[0]).u64(s[1]).u32((int) s[2]).u32((int) s[3]);
        }
        out.endSection();
    }

    // ------------------------------------------------------------------------------------------------ extensions

    /** Sections of the layers above (DumpSection): framed here, bodies written by them, before the bulky contents. */
    private void extensions(DumpOptions options) throws IOException {
        for (DumpSection section : options.sections()) {
            out.beginSection(section.kind());
            SectionSink sink = new SectionSink(out);
            try {
                section.write(sink);
            } finally {
                sink.close();
            }
            out.endSection();
        }
    }

    // ------------------------------------------------------------------------------------------------ contents

    private void contents() throws IOException {
        out.beginSection(CONTENTS);
        for (PageSnapshot page : kept) {
            for (int word = 0; word < page.live.length; word++) {
                for (long bits = page.live[word]; bits != 0; bits &= bits - 1) {
                    long block = page.start + ((long) word * 64 + Long.numberOfTrailingZeros(bits)) * page.blockSize;
                    out.u64(block).u64(page.blockSize).memory(Raw.segment(block, page.blockSize));
                }
            }
        }
        out.endSection();
    }
}
