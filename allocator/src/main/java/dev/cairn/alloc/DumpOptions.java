package dev.cairn.alloc;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a heap dump ({@link Allocator#dumpHeap(java.nio.file.Path, DumpOptions)}) carries besides the heap's
 * structure. The format is specified in {@code docs/heap-dump-format.md}.
 *
 * @param contents also write the bytes of every live block (off by default: a dump without contents stays small
 *                 and fast, and it holds no user data)
 * @param sections sections of layers above the allocator, written in this order; their kinds are distinct and in
 *                 the extension range ({@link DumpSection#FIRST_EXTENSION_KIND}..{@link
 *                 DumpSection#LAST_EXTENSION_KIND}), else the constructor throws {@link IllegalArgumentException}
 */
public record DumpOptions(boolean contents, List<DumpSection> sections) {

    /** Structure, statistics and allocation sites; no block contents. */
    public static final DumpOptions DEFAULT = new DumpOptions(false);

    public DumpOptions {
        sections = List.copyOf(sections);
        Set<Integer> kinds = new HashSet<>();
        for (DumpSection section : sections) {
            int kind = section.kind();
            if (kind < DumpSection.FIRST_EXTENSION_KIND || kind > DumpSection.LAST_EXTENSION_KIND) {
                throw new IllegalArgumentException("dump section kind 0x" + Integer.toHexString(kind)
                        + " is outside the extension range 0x" + Integer.toHexString(DumpSection.FIRST_EXTENSION_KIND)
                        + "-0x" + Integer.toHexString(DumpSection.LAST_EXTENSION_KIND));
            }
            if (!kinds.add(kind)) {
                throw new IllegalArgumentException("two dump sections of kind 0x" + Integer.toHexString(kind));
            }
        }
    }

    /** No extension sections. */
    public DumpOptions(boolean contents) {
        this(contents, List.of());
    }

    /** The default, plus the bytes of every live block. */
    public static DumpOptions withContents() {
        return new DumpOptions(true);
    }

    /** These options plus {@code section}, written after the sections already added. */
    public DumpOptions withSection(DumpSection section) {
        Objects.requireNonNull(section, "section");
        List<DumpSection> more = new ArrayList<>(sections);
        more.add(section);
        return new DumpOptions(contents, more);
    }
}
