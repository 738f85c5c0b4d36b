package dev.cairn.segments;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Reads the kernel's view of a mapping from {@code /proc/self/smaps}: its permissions and VM flags. Lets tests check
 * protection (PROT_NONE shows as {@code ---p}) without touching memory, which would crash the JVM.
 */
final class ProcMaps {

    /** One VMA: {@code [start, end)}, permissions like {@code rw-p}, and the VmFlags line (e.g. {@code hg}). */
    record Vma(long start, long end, String perms, List<String> vmFlags) {
    }

    private ProcMaps() {
    }

    static Optional<Vma> find(long address) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String[] head = lines.get(i).split("\\s+");
            int dash = head[0].indexOf('-');
            if (dash < 0 || head.length < 2 || !head[0].matches("[0-9a-f]+-[0-9a-f]+")) {
                continue;
            }
            long start = Long.parseUnsignedLong(head[0].substring(0, dash), 16);
            long end = Long.parseUnsignedLong(head[0].substring(dash + 1), 16);
            if (address >= start && address < end) {
                return Optional.of(new Vma(start, end, head[1], flagsAfter(lines, i + 1)));
            }
        }
        return Optional.empty();
    }

    static String perms(long address) {
        return find(address).map(Vma::perms).orElse("unmapped");
    }

    private static List<String> flagsAfter(List<String> lines, int from) {
        for (int i = from; i < lines.size() && !lines.get(i).matches("[0-9a-f]+-[0-9a-f]+ .*"); i++) {
            if (lines.get(i).startsWith("VmFlags:")) {
                return List.of(lines.get(i).substring("VmFlags:".length()).trim().split("\\s+"));
            }
        }
        return List.of();
    }
}
