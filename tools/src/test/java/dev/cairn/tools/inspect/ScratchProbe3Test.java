package dev.cairn.tools.inspect;

import dev.cairn.runtime.*;
import dev.cairn.runtime.Runtime;
import dev.cairn.tools.heapdump.*;
import java.nio.file.*;
import java.util.*;
import org.junit.jupiter.api.Test;

class ScratchProbe3Test {
    Path dir = Path.of("/tmp/probe-dumps");

    void show(Path p, String... extra) {
        for (String[] c : new String[][] {{"objects"}, {"validate"}, {"summary"}, {"objects", "--type", "str", "--limit", "3"}, {"html", "-o", "/dev/null"}, {"objects", "--json"}}) {
            String[] args = new String[c.length + 1]; args[0] = p.toString(); System.arraycopy(c, 0, args, 1, c.length);
            Cli r = Cli.run(args);
            if (r.code() != 0 || !r.err().isEmpty() || c[0].equals("objects") && c.length == 1) System.out.println("-- " + p.getFileName() + " " + String.join(" ", c) + ": " + r);
        }
    }

    @Test
    void runtime() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Path p0 = dir.resolve("rt-empty.cdump");
            rt.dumpHeap(p0);
            show(p0);
            Interpreter shared = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter iso = rt.newInterpreter(InterpreterConfig.isolated());
            long list, dict, s;
            try (ThreadState ts = shared.newThreadState()) {
                list = Lists.create(ts);
                for (int i = 0; i < 100; i++) { long x = Ints.of(ts, 1000 + i); Lists.append(ts, list, x); Ref.decref(ts, x); }
                dict = Dicts.create(ts);
                for (int i = 0; i < 20; i++) { long k = Strs.of(ts, "k" + i); long v = Strs.of(ts, "v" + i); Dicts.put(ts, dict, k, v); Ref.decref(ts, k); Ref.decref(ts, v);}
                s = Strs.intern(ts, "interned!");
                System.out.println("refcounts list=" + Ref.refcount(ts, list) + " dict=" + Ref.refcount(ts, dict) + " s=" + Ref.refcount(ts, s) + " immortal s=" + Ref.isImmortal(ts, s));
                Path p1 = dir.resolve("rt-shared-attached.cdump");
                shared.dumpHeap(p1);
                show(p1);
                Path p2 = dir.resolve("rt-main.cdump");
                rt.dumpHeap(p2);
                show(p2);
            }
            try (ThreadState ts = iso.newThreadState()) {
                long l2 = Lists.create(ts);
                long st = Strs.of(ts, "x".repeat(70000));
                Lists.append(ts, l2, st);
                Path p3 = dir.resolve("rt-iso.cdump");
                iso.dumpHeap(p3, dev.cairn.alloc.DumpOptions.withContents());
                show(p3);
            }
        }
    }
}
