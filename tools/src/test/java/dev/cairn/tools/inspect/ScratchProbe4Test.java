package dev.cairn.tools.inspect;

import dev.cairn.alloc.*;
import dev.cairn.tools.heapdump.*;
import java.lang.foreign.Arena;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import org.junit.jupiter.api.Test;

class ScratchProbe4Test {
    Path dir = Path.of("/tmp/probe-dumps");

    void v(Allocator a, String name) {
        Path p = dir.resolve(name + ".cdump");
        try { a.validate(); } catch (Exception e) { System.out.println(name + " allocator.validate: " + e); }
        a.dumpHeap(p);
        Cli r = Cli.run(p.toString(), "validate");
        System.out.println("== " + name + " -> " + r.code() + (r.code() != 0 ? "\n" + r.out() : ""));
    }

    @Test
    void states() throws Exception {
        try (Allocator a = Allocator.create(AllocatorConfig.builder().purgeDelay(java.time.Duration.ofHours(1)).build())) {
            List<Long> l = new ArrayList<>();
            for (int i = 0; i < 5000; i++) l.add(a.malloc(i % 700 + 1));
            for (int i = 0; i < 5000; i += 1) if (i % 3 != 0) a.free(l.get(i));
            v(a, "retired-pending");
            a.collect(true);
            v(a, "retired-collected");
            CountDownLatch go = new CountDownLatch(1), done = new CountDownLatch(1);
            Thread t = new Thread(() -> { Arena ar = a.newArena(); ar.allocate(100); ar.allocate(5 << 20); done.countDown();
                try { go.await(); } catch (InterruptedException e) {} ar.close(); });
            t.start(); done.await();
            v(a, "other-thread-arena");
            go.countDown(); t.join();
            v(a, "other-thread-arena-closed");
            Thread t2 = new Thread(() -> { Arena ar = a.newArena(); ar.allocate(100); ar.allocate(5 << 20); });
            t2.start(); t2.join();
            v(a, "dead-arena-unreaped");
            a.collect(true);
            v(a, "dead-arena-reaped");
            Thread t3 = new Thread(() -> { a.malloc(7 << 20); a.mallocAligned(100, 1 << 20); });
            t3.start(); t3.join();
            v(a, "dead-huge-unreaped");
            a.collect(false);
            v(a, "dead-huge-reaped");
            Thread.ofVirtual().start(() -> { a.malloc(9 << 20); }).join();
            v(a, "virtual-huge");
            a.collect(true);
            v(a, "virtual-huge-collect");
        }
    }
}
