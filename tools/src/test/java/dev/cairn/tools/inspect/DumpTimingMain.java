package dev.cairn.tools.inspect;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.Heap;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Measures the two speed goals (numbers and command in {@code docs/benchmarks.md}, "Heap dumps"): a heap
 * holding {@code BYTES} in small blocks (default 1 GiB of 64-byte blocks) is dumped without contents, then the dump
 * is opened and summarised in this JVM. Each step is timed once per round, six rounds, so the first (cold) and
 * the later (warm) figures are both visible. Not a test: timing assertions would fail on a loaded machine.
 *
 * <p>Usage: {@code DumpTimingMain [BYTES[k|m|g]] [BLOCK_SIZE] [DUMP_PATH]}
 */
public final class DumpTimingMain {

    private DumpTimingMain() {
    }

    public static void main(String[] args) throws Exception {
        long bytes = args.length > 0 ? parseSize(args[0]) : 1L << 30;
        long blockSize = args.length > 1 ? Long.parseLong(args[1]) : 64;
        Path path = Path.of(args.length > 2 ? args[2] : "timing.cdump");
        long blocks = bytes / blockSize;
        try (Allocator allocator = Allocator.create(AllocatorConfig.defaults())) {
            long start = System.nanoTime();
            Heap heap = allocator.heap();
            for (long i = 0; i < blocks; i++) {
                heap.malloc(blockSize);
            }
            System.out.printf("heap: %,d blocks of %d bytes (%,d bytes) allocated in %.2f s%n", blocks, blockSize,
                    blocks * blockSize, (System.nanoTime() - start) / 1e9);
            for (int round = 1; round <= 6; round++) {
                start = System.nanoTime();
                allocator.dumpHeap(path);
                double dump = (System.nanoTime() - start) / 1e9;
                start = System.nanoTime();
                int code = InspectCli.run(new String[] {path.toString(), "summary"},
                        new PrintStream(OutputStream.nullOutputStream()), System.err);
                double summary = (System.nanoTime() - start) / 1e9;
                System.out.printf("round %d: dump %.3f s (%,d bytes), open + summary %.3f s (exit %d)%n", round, dump,
                        Files.size(path), summary, code);
            }
        }
    }

    private static long parseSize(String text) {
        char unit = Character.toLowerCase(text.charAt(text.length() - 1));
        int shift = switch (unit) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 0;
        };
        return Long.parseLong(shift == 0 ? text : text.substring(0, text.length() - 1)) << shift;
    }
}
