package dev.cairn.tools.inspect;

import dev.cairn.alloc.*;
import dev.cairn.tools.heapdump.*;
import java.nio.file.*;
import java.util.*;
import org.junit.jupiter.api.Test;

class ScratchProbe5Test {
    Path dir = Path.of("/tmp/probe-dumps");

    void attempt(String what, Runnable r) {
        try { r.run(); System.out.println(what + ": OK"); }
        catch (Throwable t) { System.out.println(what + ": " + t); }
    }

    @Test
    void paths() throws Exception {
        try (Allocator a = Allocator.create()) {
            a.malloc(10);
            attempt("interrupted", () -> { Thread.currentThread().interrupt(); a.dumpHeap(dir.resolve("intr.cdump")); });
            System.out.println("interrupt flag after: " + Thread.interrupted());
            attempt("long name", () -> a.dumpHeap(dir.resolve("x".repeat(240) + ".cdump")));
            attempt("relative", () -> a.dumpHeap(Path.of("rel.cdump")));
            attempt("dir", () -> a.dumpHeap(dir));
            attempt("no parent", () -> a.dumpHeap(dir.resolve("nope/x.cdump")));
            attempt("proc", () -> a.dumpHeap(Path.of("/proc/x.cdump")));
            attempt("dev-null", () -> a.dumpHeap(Path.of("/dev/null")));
            attempt("empty path", () -> a.dumpHeap(Path.of("")));
            attempt("root", () -> a.dumpHeap(Path.of("/")));
            Thread vt = Thread.ofVirtual().start(() -> attempt("virtual", () -> a.dumpHeap(dir.resolve("vt.cdump"))));
            vt.join();
            attempt("inside visit", () -> a.visitBlocks((ad, s, b, h) -> { a.dumpHeap(dir.resolve("invisit.cdump")); return false; }));
            attempt("nested section dump", () -> a.dumpHeap(dir.resolve("outer.cdump"), DumpOptions.DEFAULT.withSection(new DumpSection() {
                public int kind() { return 0x200; }
                public void write(DumpSink out) throws java.io.IOException { a.dumpHeap(dir.resolve("inner.cdump")); out.u32(7); }
            })));
            attempt("section throws", () -> a.dumpHeap(dir.resolve("one.cdump"), DumpOptions.DEFAULT.withSection(new DumpSection() {
                public int kind() { return 0x200; }
                public void write(DumpSink out) throws java.io.IOException { throw new java.io.IOException("boom"); }
            })));
            System.out.println(Arrays.toString(dir.toFile().list((d, n) -> n.startsWith("."))));
            for (String f : new String[] {"outer.cdump", "inner.cdump", "vt.cdump", "invisit.cdump"}) System.out.println(f + " " + Cli.run(dir.resolve(f).toString(), "validate").code());
        }
    }
}
