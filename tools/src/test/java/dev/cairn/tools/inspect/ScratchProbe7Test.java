package dev.cairn.tools.inspect;

import dev.cairn.runtime.*;
import dev.cairn.runtime.Runtime;
import dev.cairn.tools.heapdump.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.atomic.*;
import org.junit.jupiter.api.Test;

class ScratchProbe7Test {
    Path dir = Path.of("/tmp/probe-dumps");

    @Test
    void runtimeConcurrent() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> ts = new ArrayList<>();
            for (Interpreter in : List.of(a, b, a)) {
                ts.add(Thread.ofPlatform().start(() -> {
                    SplittableRandom r = new SplittableRandom();
                    try (ThreadState t = in.newThreadState()) {
                        List<Long> held = new ArrayList<>();
                        while (!stop.get()) {
                            long l = Lists.create(t);
                            for (int i = 0; i < 10; i++) { long x = Strs.of(t, "s" + r.nextInt(100)); Lists.append(t, l, x); Ref.decref(t, x); }
                            held.add(l);
                            if (held.size() > 50) Ref.decref(t, held.remove(r.nextInt(held.size())));
                            if (r.nextInt(200) == 0) Gc.collect(t);
                        }
                        held.forEach(x -> Ref.decref(t, x));
                    }
                }));
            }
            int bad = 0; Thread.sleep(500);
            for (int i = 0; i < 60 && bad < 3; i++) {
                Path p = dir.resolve("rtc.cdump");
                Interpreter which = i % 3 == 0 ? b : i % 3 == 1 ? a : null;
                if (which == null) rt.dumpHeap(p); else which.dumpHeap(p);
                Cli v = Cli.run(p.toString(), "validate");
                String objViol = v.out().lines().filter(s -> s.contains("' object") || s.contains("  type '")).limit(5).reduce("", (x, y) -> x + "\n" + y);
                if (v.code() > 1 || !objViol.isEmpty()) { bad++; System.out.println("dump " + i + " exit " + v.code() + objViol + "\n" + v.err()); Files.copy(p, dir.resolve("rtc-bad-" + i + ".cdump"), StandardCopyOption.REPLACE_EXISTING); }
                Cli o = Cli.run(p.toString(), "objects"); if (i % 10 == 0) System.out.println(v.out().lines().filter(x -> x.startsWith("checked")).findFirst().orElse("") + " exit " + v.code());
                if (o.code() != 0) { bad++; System.out.println(o); }
            }
            stop.set(true);
            for (Thread t : ts) t.join();
            System.out.println("runtime concurrent done bad=" + bad);
        }
    }
}
