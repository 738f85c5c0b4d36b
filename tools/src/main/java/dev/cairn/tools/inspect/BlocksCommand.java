package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.PageInfo;
import dev.cairn.tools.inspect.Value.Hex;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * {@code blocks --bin N}: the carved blocks of size class N (-1: huge blocks), live or free; {@code --live} keeps
 * the live ones; {@code --contents} adds a hex view of each block's first bytes when the dump carries contents.
 */
final class BlocksCommand {

    /** Bytes of a block shown by {@code --contents}. */
    static final int HEX_BYTES = 32;

    private BlocksCommand() {
    }

    static Report run(HeapDump dump, Options options) {
        int bin = options.bin();
        Report report = new Report();
        report.put("bin", bin);
        if (options.contents() && !dump.header().hasContents()) {
            report.put("contents", "not in this dump (write it with DumpOptions.withContents())");
        }
        List<Report> rows = report.table("blocks");
        long matched = 0;
        for (PageInfo page : dump.pages()) {
            if (page.bin() != bin) {
                continue;
            }
            for (int index = 0; index < page.capacity(); index++) {
                boolean live = dump.isLive(page, index);
                if (options.live() && !live) {
                    continue;
                }
                matched++;
                if (rows.size() < options.limit()) {
                    rows.add(row(dump, page, index, live, options.contents()));
                }
            }
        }
        report.put("matching", matched).put("shown", rows.size());
        return report;
    }

    private static Report row(HeapDump dump, PageInfo page, int index, boolean live, boolean contents) {
        long address = page.start() + (long) index * page.blockSize();
        Report row = new Report().put("address", new Hex(address)).put("size", page.blockSize())
                .put("state", live ? "live" : "free").put("page", new Hex(page.start()));
        if (contents) {
            MemorySegment bytes = live ? dump.contents(address) : null;
            row.put("hex", bytes == null ? "-" : hex(bytes));
        }
        return row;
    }

    static String hex(MemorySegment bytes) {
        int n = (int) Math.min(bytes.byteSize(), HEX_BYTES);
        StringBuilder out = new StringBuilder(n * 3 + 4);
        for (int i = 0; i < n; i++) {
            out.append(i == 0 ? "" : (i % 8 == 0 ? "  " : " "))
                    .append(String.format("%02x", bytes.get(ValueLayout.JAVA_BYTE, i) & 0xFF));
        }
        return bytes.byteSize() > n ? out.append(" ...").toString() : out.toString();
    }
}
