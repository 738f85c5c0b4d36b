package dev.cairn.tools.inspect;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.AllocatorStats;
import dev.cairn.alloc.DumpOptions;
import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.PageInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.*;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchProbeTest {
    Path dir = Path.of("/tmp/probe-dumps");

    static final String[][] CMDS = {{}, {"bins"}, {"segments"}, {"threads"}, {"validate"}, {"sites"}, {"objects"},
        {"blocks", "--bin", "-1", "--contents"}, {"blocks", "--bin", "0", "--live"}, {"html", "-o", "/dev/null"},
        {"--json"}, {"bins", "--json"}, {"segments", "--json"}, {"threads", "--json"}, {"validate", "--json"}};

    void check(String name, Allocator a, boolean contents) throws Exception {
        Path p = dir.resolve(name + ".cdump");
        AllocatorStats s = a.stats();
        long[] vb = new long[3];
        a.visitBlocks((addr, size, bin, heap) -> { vb[0]++; vb[1] += size; return true; });
        a.dumpHeap(p, contents ? DumpOptions.withContents() : DumpOptions.DEFAULT);
        AllocatorStats s2 = a.stats();
        StringBuilder sb = new StringBuilder("== " + name + ": stats blocks=" + s.blocksInUse() + " bytes=" + s.allocatedBytes()
                + " pages=" + s.pages() + " segs=" + s.liveSegments() + " heaps=" + s.heapsLive() + " abandoned=" + s.abandonedSegments()
                + " committed=" + s.committedBytes() + " delayed=" + s.delayedFreesPending()
                + " | visit blocks=" + vb[0] + " bytes=" + vb[1]);
        if (!s.equals(s2)) sb.append("\n  STATS CHANGED BY DUMP: " + s + "\n  vs " + s2);
        try (HeapDump d = HeapDump.open(p)) {
            long used = 0, live = 0, liveBytes = 0, usedBytes = 0, x = 0;
            for (PageInfo pg : d.pages()) { used += pg.used(); live += pg.liveBlocks(); liveBytes += pg.liveBytes();
                usedBytes += (long) pg.used() * pg.blockSize(); x += pg.xthreadFree(); }
            long[] st = d.stats();
            sb.append("\n  dump: pages=" + d.pages().size() + " used=" + used + " usedBytes=" + usedBytes + " live=" + live
                    + " liveBytes=" + liveBytes + " xthread=" + x + " segs=" + d.segments().size() + " heaps=" + d.heaps().size()
                    + " pool=" + d.abandonedPool().length + " delayed=" + d.delayedFrees().length + " flags=" + d.header().flags()
                    + " STATS=" + Arrays.toString(st));
            long committed = d.segments().stream().mapToLong(x2 -> x2.committedBytes()).sum();
            sb.append("\n  dump committed sum=" + committed);
        }
        for (String[] c : CMDS) {
            String[] args = new String[c.length + 1];
            args[0] = p.toString();
            System.arraycopy(c, 0, args, 1, c.length);
            Cli r = Cli.run(args);
            if (r.code() != 0 || !r.err().isEmpty()) sb.append("\n  CMD " + String.join(" ", c) + " -> " + r);
            if (c.length == 1 && c[0].equals("validate") && r.code() != 0) sb.append("\n" + r.out());
        }
        System.out.println(sb);
    }

    @Test
    void states() throws Exception {
        try (Allocator a = Allocator.create()) {
            check("empty", a, true);
        }
        try (Allocator a = Allocator.create()) {
            a.malloc(100); a.free(a.malloc(100));
            check("one", a, true);
            long h1 = a.malloc(5 << 20); long h2 = a.malloc(64L << 20); long h3 = a.malloc((32L << 20) - 1);
            check("huge", a, true);
            a.free(h2);
            long al1 = a.mallocAligned(100, 4096); long al2 = a.mallocAligned(5000, 1 << 20); long al3 = a.mallocAligned(10, 16L << 20);
            check("aligned", a, true);
            var arena = a.newArena();
            arena.allocate(1000); arena.allocate(1 << 22);
            check("arena-open", a, false);
            arena.close();
            check("arena-closed", a, false);
        }
        try (Allocator a = Allocator.create()) {
            List<Long> blocks = new ArrayList<>();
            Thread t = Thread.ofVirtual().start(() -> { for (int i = 0; i < 1000; i++) blocks.add(a.malloc(i * 3 + 1)); });
            t.join();
            check("virtual", a, false);
            Thread t2 = new Thread(() -> { for (int i = 0; i < 1000; i++) a.malloc(i * 5 + 1); }, "dying");
            t2.start(); t2.join();
            check("dead-unreaped", a, false);
            Thread t3 = new Thread(() -> { for (int i = 0; i < 1000; i++) a.malloc(i * 5 + 1); a.releaseCurrentThread(); }, "released");
            t3.start(); t3.join();
            check("released", a, false);
            for (int i = 0; i < blocks.size(); i += 2) a.free(blocks.get(i));
            check("remote-freed-uncollected", a, false);
            a.collect(true);
            check("after-collect", a, false);
        }
        try (Allocator a = Allocator.create(AllocatorConfig.builder().strictSampling().build())) {
            for (int i = 0; i < 500; i++) a.malloc(i + 1);
            a.malloc(10 << 20);
            check("sampled", a, true);
            long q = a.malloc(64);
            a.freeDelayed(q);
            check("delayed", a, false);
        }
        try (Allocator a = Allocator.create(AllocatorConfig.builder().checked(false).sampleRate(10).build())) {
            for (int i = 0; i < 500; i++) a.malloc(i + 1);
            long q = a.malloc(64);
            a.freeDelayed(q);
            check("unchecked", a, true);
        }
    }
}
