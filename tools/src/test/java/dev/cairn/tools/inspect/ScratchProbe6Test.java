package dev.cairn.tools.inspect;

import dev.cairn.alloc.*;
import dev.cairn.tools.heapdump.*;
import java.lang.foreign.Arena;
import java.nio.file.*;
import java.util.*;
import org.junit.jupiter.api.Test;

class ScratchProbe6Test {
    Path dir = Path.of("/tmp/probe-dumps");

    void check(Allocator a, String name) throws Exception {
        Path p = dir.resolve(name + ".cdump");
        Set<Long> live = new HashSet<>();
        a.visitBlocks((ad, s, b, h) -> { live.add(ad); return true; });
        a.dumpHeap(p);
        try (HeapDump d = HeapDump.open(p)) {
            long stale = 0, ok = 0; Set<Long> sampled = new HashSet<>();
            for (Sample s : d.samples()) { if (live.contains(s.address())) { ok++; sampled.add(s.address()); } else stale++; }
            Set<Long> unsampled = new HashSet<>(live); unsampled.removeAll(sampled);
            System.out.println("== " + name + ": live=" + live.size() + " samples=" + d.samples().size() + " matching=" + ok + " stale=" + stale + " liveUnsampled=" + unsampled.size());
        }
    }

    @Test
    void samples() throws Exception {
        try (Allocator a = Allocator.create(AllocatorConfig.builder().strictSampling().build())) {
            long x = a.malloc(10);
            check(a, "s-one");
            try (Arena ar = a.newArena()) { for (int i = 0; i < 50; i++) ar.allocate(100); ar.allocate(5 << 20); }
            check(a, "s-arena-closed");
            long r = a.malloc(100); r = a.realloc(r, 100000); r = a.realloc(r, 10 << 20); r = a.realloc(r, 50);
            check(a, "s-realloc");
            long c = a.calloc(10, 10);
            check(a, "s-calloc");
            long al = a.mallocAligned(100, 4096);
            check(a, "s-aligned");
            long d = a.malloc(64); a.freeDelayed(d); a.collect(true);
            check(a, "s-delayed");
            long[] z = new long[20];
            for (int i = 0; i < 20; i++) z[i] = a.malloc(200);
            Thread t = new Thread(() -> { for (long q : z) a.free(q); }); t.start(); t.join();
            check(a, "s-remote-free");
            a.collect(true);
            check(a, "s-remote-free-collected");
            Thread t2 = new Thread(() -> { for (int i = 0; i < 20; i++) a.malloc(300); a.malloc(6 << 20); a.releaseCurrentThread(); }); t2.start(); t2.join();
            check(a, "s-released");
            var seg = a.allocate(1000); a.free(seg);
            var seg2 = a.allocate(5000);
            check(a, "s-segment");
            Heap h = a.heap();
            long hp = h.malloc(77);
            check(a, "s-heap");
        }
    }
}
