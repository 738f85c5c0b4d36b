package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.DumpFormat;
import dev.cairn.tools.heapdump.DumpHeader;
import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.inspect.Value.Bytes;
import dev.cairn.tools.inspect.Value.Ratio;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;

/**
 * {@code summary}: what the dump is, the totals (with the runtime's object count when an interpreter took it),
 * where committed memory that holds no live block went (fragmentation, and why: the segment cache is the
 * allocator's committed count, from STATS, less the dump's segments'), and the size classes holding the most bytes.
 */
final class SummaryCommand {

    /** Positions in the STATS section (DumpFormat.STAT_NAMES). */
    private static final int COMMITTED = List.of(DumpFormat.STAT_NAMES).indexOf("committedBytes");
    private static final int CACHED_SEGMENTS = List.of(DumpFormat.STAT_NAMES).indexOf("cachedSegments");

    private SummaryCommand() {
    }

    static Report run(HeapDump dump, Options options) {
        Totals t = new Totals(dump);
        DumpHeader h = dump.header();
        Report report = new Report();
        Report about = report.section("dump");
        about.put("file", dump.path().toString()).put("format", h.major() + "." + h.minor())
                .put("writer", h.cairnVersion()).put("time", Instant.ofEpochMilli(h.timeMillis()).toString())
                .put("domainId", h.domainId()).put("segmentSize", new Bytes(h.segmentSize()))
                .put("consistency", !h.bestEffort() ? "exact" : dump.objects().isPresent()
                        ? "objects exact (the runtime stopped every interpreter on the allocator;"
                                + " their heaps were open)"
                        : "best-effort (other threads were running)")
                .put("checked", h.checked()).put("contents", h.hasContents())
                .put("sampleRate", dump.sampleRate() == 0 ? "off" : "1 in " + dump.sampleRate());
        long[] kinds = new long[DumpFormat.KINDS.length];
        dump.segments().forEach(s -> kinds[Math.min(s.kind(), kinds.length - 1)]++);
        Report totals = report.section("totals");
        totals.put("segments", dump.segments().size());
        for (int k = 0; k < kinds.length; k++) {
            totals.put(DumpFormat.KINDS[k] + "Segments", kinds[k]);
        }
        totals.put("heaps", dump.heaps().size()).put("pages", t.pages).put("fullPages", t.fullPages)
                .put("blocksInUse", t.liveBlocks).put("bytesInUse", new Bytes(t.liveBytes))
                .put("pendingRemoteFrees", t.pendingRemoteFrees).put("reserved", new Bytes(t.reserved))
                .put("committed", new Bytes(t.committed));
        long[] stats = dump.stats();
        if (stats.length > CACHED_SEGMENTS) {
            totals.put("cachedSegments", stats[CACHED_SEGMENTS]);
        }
        totals.put("pooledPages", t.pooledPages).put("lentPages", t.lentPages)
                .put("abandonedPool", dump.abandonedPool().length)
                .put("pendingDelayedFrees", dump.delayedFrees().length);
        dump.objects().ifPresent(section -> {
            ObjectTotals objects = new ObjectTotals(section);
            totals.put("objects", objects.objects).put("objectBytes", new Bytes(objects.bytes))
                    .put("objectTypes", objects.ranked().size());
        });
        Report waste = report.section("fragmentation");
        long unused = Math.max(0, t.committed - t.liveBytes);
        waste.put("committedNotInUse", new Bytes(unused))
                .put("ofCommitted", new Ratio(Totals.ratio(unused, t.committed)))
                .put("partlyUsedPages", new Bytes(t.freeInUsedPages))
                .put("retiredPagesPurgePending", new Bytes(t.pendingPurge))
                .put("retiredPagesPurged", new Bytes(t.purged))
                .put("segmentMetadata", new Bytes(t.metadata))
                .put("abandonedSegments", new Bytes(t.abandonedCommitted));
        if (stats.length > COMMITTED) {
            // committed memory in no segment of the dump: the segments cached for reuse (purged, still counted)
            waste.put("segmentCache", new Bytes(Math.max(0, stats[COMMITTED] - t.committed)));
        }
        List<Report> top = report.table("topSizeClasses");
        IntStream.range(0, t.bins).filter(s -> t.binPages[s] > 0).boxed()
                .sorted((a, b) -> Long.compare(t.binLiveBytes[b], t.binLiveBytes[a])).limit(options.top())
                .forEach(s -> top.add(new Report().put("bin", s - 1).put("blockSize", t.binName(s))
                        .put("blocks", t.binLiveBlocks[s]).put("bytes", new Bytes(t.binLiveBytes[s]))
                        .put("ofInUse", new Ratio(Totals.ratio(t.binLiveBytes[s], t.liveBytes)))));
        return report;
    }
}
