package dev.cairn.tools.inspect;

import dev.cairn.alloc.*;
import dev.cairn.segments.SegmentConfig;
import java.nio.file.*;
import java.util.*;
import org.junit.jupiter.api.Test;

class ScratchProbe10Test {
    Path dir = Path.of("/tmp/probe-dumps");

    @Test
    void kinds() throws Exception {
        for (SegmentConfig.HugePages hp : SegmentConfig.HugePages.values()) {
        try (Allocator a = Allocator.create(AllocatorConfig.builder().hugePages(hp).purgeDelay(java.time.Duration.ZERO).build())) {
            SplittableRandom r = new SplittableRandom(5);
            List<Long> l = new ArrayList<>();
            for (int i = 0; i < 3000; i++) l.add(a.malloc(r.nextInt(10) < 7 ? r.nextLong(1, 8000) : r.nextLong(8000, 3 << 20)));
            for (int i = 0; i < l.size(); i += 2) a.free(l.get(i));
            a.validate();
            Path p = dir.resolve("hp-" + hp + ".cdump");
            a.dumpHeap(p);
            for (String c : new String[] {"validate"}) { Cli x = Cli.run(p.toString(), c); System.out.println(hp + " " + c + " " + x.code() + (x.code() != 0 ? x.out().lines().limit(8).toList() : "")); }
            a.collect(true);
            a.dumpHeap(p);
            Cli x = Cli.run(p.toString(), "validate"); System.out.println("after collect " + x.code() + (x.code() != 0 ? x.out().lines().limit(8).toList() : ""));
            Cli y = Cli.run(p.toString(), "--json"); System.out.println("committed " + JsonCheck.firstLong(y.out(), "committed") + " cache " + JsonCheck.firstLong(y.out(), "segmentCache") + " stats " + a.stats().committedBytes());
        }
        }
    }
}
