package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.HeapInfo;
import dev.cairn.tools.heapdump.SegmentInfo;
import dev.cairn.tools.inspect.Value.Bytes;
import java.util.List;

/**
 * {@code threads}: per heap (each belongs to the thread that created it): segments, pages, memory in use. Pages and
 * blocks count under the page's own heap (format 1.2: with the page pool, a heap may own pages of another's
 * segment). Segments whose heap is not in the dump (abandoned ones), pages in the page pool, and the bytes in use no
 * heap of the dump owns are summed in a last row.
 */
final class ThreadsCommand {

    private ThreadsCommand() {
    }

    static Report run(HeapDump dump, Options options) {
        Totals t = new Totals(dump);
        Report report = new Report();
        List<Report> rows = report.table("heaps");
        for (int i = 0; i < t.heaps.size(); i++) {
            HeapInfo h = t.heaps.get(i);
            rows.add(new Report().put("heap", h.id()).put("threadId", h.threadId())
                    .put("thread", h.threadName().isEmpty() ? "(unnamed)" : h.threadName())
                    .put("tag", h.tag()).put("closed", h.closed()).put("segments", t.heapSegments[i]).put("pages", t.heapPages[i])
                    .put("blocksInUse", t.heapLiveBlocks[i]).put("bytesInUse", new Bytes(t.heapLiveBytes[i]))
                    .put("committed", new Bytes(t.heapCommitted[i])).put("slowPathCalls", h.slowPathCalls())
                    .put("pagesRetired", h.pagesRetired()));
        }
        long orphanSegments = 0;
        long abandoned = 0;
        for (SegmentInfo s : dump.segments()) {
            if (!t.heapIndex.containsKey(s.heapId()) || s.abandoned()) {
                orphanSegments++;
                abandoned += s.abandoned() ? 1 : 0;
            }
        }
        report.section("withoutHeap").put("segments", orphanSegments).put("abandoned", abandoned)
                .put("pooledPages", t.pooledPages).put("bytesInUse", new Bytes(t.liveBytesWithoutHeap));
        return report;
    }
}
