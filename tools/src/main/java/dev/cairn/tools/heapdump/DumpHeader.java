package dev.cairn.tools.heapdump;

/**
 * The dump's header (format spec: {@code docs/heap-dump-format.md}, "Header").
 *
 * @param major format major version (this reader reads {@value DumpFormat#MAJOR})
 * @param minor format minor version (any; newer minors only append what this reader skips)
 * @param flags {@link DumpFormat#FLAG_BEST_EFFORT} and friends
 * @param pageShifts page shift of small, medium and large pages
 * @param binCount number of size classes
 * @param sampleRate allocation-site sampling rate: 0 off, 1 every allocation, N about one in N
 */
public record DumpHeader(int major, int minor, int headerSize, int flags, int osPageSize, long segmentSize,
        long commitUnit, long timeMillis, long domainId, int[] pageShifts, int binCount, int sampleRate,
        String cairnVersion) {

    public boolean bestEffort() {
        return (flags & DumpFormat.FLAG_BEST_EFFORT) != 0;
    }

    public boolean hasContents() {
        return (flags & DumpFormat.FLAG_CONTENTS) != 0;
    }

    public boolean checked() {
        return (flags & DumpFormat.FLAG_CHECKED) != 0;
    }
}
