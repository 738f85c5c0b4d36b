package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.Sample;
import dev.cairn.tools.heapdump.Site;

/**
 * Live sampled blocks per allocation site. A sample counts only when a live block of the dump starts at its
 * address (a sample whose block died without a free, or that raced the dump, is stale). Estimates scale the sampled
 * figures by the sampling rate: with rate N each sample stands for about N allocations.
 */
final class SiteTotals {

    final long[] blocks;
    final long[] bytes;
    final long rate;
    long stale;

    SiteTotals(HeapDump dump) {
        int sites = dump.sites().size();
        blocks = new long[sites];
        bytes = new long[sites];
        rate = Math.max(1, dump.sampleRate());
        for (Sample sample : dump.samples()) {
            long size = dump.liveBlockSize(sample.address());
            if (size < 0) {
                stale++;
                continue;
            }
            blocks[sample.site()]++;
            bytes[sample.site()] += size;
        }
    }

    long estimatedBlocks(int site) {
        return blocks[site] * rate;
    }

    long estimatedBytes(int site) {
        return bytes[site] * rate;
    }

    /** Site ids with live samples, most bytes first. */
    int[] ranked() {
        return java.util.stream.IntStream.range(0, blocks.length).filter(s -> blocks[s] > 0).boxed()
                .sorted((a, b) -> Long.compare(bytes[b], bytes[a])).mapToInt(Integer::intValue).toArray();
    }

    static String key(Site site) {
        return site.key();
    }
}
