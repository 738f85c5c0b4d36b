package dev.cairn.tools.inspect;

import dev.cairn.alloc.*;
import dev.cairn.runtime.*;
import dev.cairn.runtime.Runtime;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.junit.jupiter.api.Test;

class ScratchProbe9Test {
    Path dir = Path.of("/tmp/probe-dumps");

    @Test
    void concurrentDumps() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            AtomicInteger done = new AtomicInteger(); AtomicReference<Throwable> fail = new AtomicReference<>();
            List<Thread> ts = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                final int id = k;
                ts.add(Thread.ofPlatform().name("dumper-" + k).start(() -> {
                    try {
                        Interpreter in = id % 2 == 0 ? a : b;
                        try (ThreadState t = in.newThreadState()) {
                            for (int i = 0; i < 25; i++) {
                                long l = Lists.create(t); long x = Strs.of(t, "v" + i); Lists.append(t, l, x); Ref.decref(t, x);
                                Path p = dir.resolve("cd-" + (i % 2) + ".cdump");
                                switch ((id + i) % 4) {
                                    case 0 -> a.dumpHeap(p);
                                    case 1 -> b.dumpHeap(p);
                                    case 2 -> rt.dumpHeap(p);
                                    default -> { Runtime.class.getMethod("stopTheWorld"); rt.dumpHeap(p); }
                                }
                                Ref.decref(t, l);
                                done.incrementAndGet();
                            }
                        }
                    } catch (Throwable e) { fail.compareAndSet(null, e); }
                }));
            }
            for (Thread t : ts) { t.join(60_000); if (t.isAlive()) { System.out.println("HUNG " + t); for (StackTraceElement e : t.getStackTrace()) System.out.println("   " + e); } }
            System.out.println("done " + done.get() + " fail " + fail.get());
            if (fail.get() != null) fail.get().printStackTrace(System.out);
        }
    }
}
