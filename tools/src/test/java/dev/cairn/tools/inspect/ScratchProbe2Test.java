package dev.cairn.tools.inspect;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.DumpOptions;
import dev.cairn.tools.heapdump.HeapDump;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.junit.jupiter.api.Test;

class ScratchProbe2Test {
    Path dir = Path.of("/tmp/probe-dumps");

    @Test
    void concurrent() throws Exception {
        try (Allocator a = Allocator.create(AllocatorConfig.builder().sampleRate(7).build())) {
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Long> shared = new ConcurrentLinkedQueue<>();
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                final int seed = t;
                Runnable r = () -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    List<Long> mine = new ArrayList<>();
                    while (!stop.get()) {
                        int op = rnd.nextInt(10);
                        if (op < 5) { long s = rnd.nextInt(10) == 0 ? rnd.nextLong(1, 5 << 20) : rnd.nextLong(1, 3000); mine.add(a.malloc(s)); }
                        else if (op < 8 && !mine.isEmpty()) a.free(mine.remove(rnd.nextInt(mine.size())));
                        else if (op < 9 && !mine.isEmpty()) shared.add(mine.remove(rnd.nextInt(mine.size())));
                        else { Long q = shared.poll(); if (q != null) a.free(q); }
                        if (rnd.nextInt(5000) == 0) { mine.forEach(a::free); mine.clear(); a.releaseCurrentThread(); }
                    }
                };
                ts.add(t == 2 ? Thread.ofVirtual().start(r) : Thread.ofPlatform().start(r));
            }
            int bad = 0;
            for (int i = 0; i < 150; i++) {
                Path p = dir.resolve("conc.cdump");
                a.dumpHeap(p, i % 5 == 0 ? DumpOptions.withContents() : DumpOptions.DEFAULT);
                for (String[] c : new String[][] {{"validate"}, {"summary"}, {"html", "-o", "/dev/null"}, {"sites"}}) {
                    String[] args = new String[c.length + 1]; args[0] = p.toString(); System.arraycopy(c, 0, args, 1, c.length);
                    Cli r = Cli.run(args);
                    if (r.code() > 1 || !r.err().isEmpty()) { bad++; System.out.println("DUMP " + i + " " + String.join(" ", c) + ": " + r); if (bad > 3) break; Files.copy(p, dir.resolve("conc-bad" + i + ".cdump"), StandardCopyOption.REPLACE_EXISTING); }
                    if (c[0].equals("validate") && r.code() == 1 && i % 30 == 0) System.out.println("validate " + i + ": " + r.out().lines().limit(6).toList());
                }
                if (bad > 3) break;
            }
            stop.set(true);
            for (Thread t : ts) t.join();
            System.out.println("concurrent done bad=" + bad);
        }
    }
}
