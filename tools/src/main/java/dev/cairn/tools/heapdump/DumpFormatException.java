package dev.cairn.tools.heapdump;

/**
 * A dump that cannot be read: empty, truncated, corrupted, not a Cairn dump, or of a newer major version. Says
 * where ({@link #offset()}, a byte offset in the file) and what; the tool prints it as one line.
 */
public final class DumpFormatException extends Exception {

    private static final long serialVersionUID = 1L;

    private final long offset;
    private final String problem;

    public DumpFormatException(long offset, String problem) {
        super("at offset " + offset + ": " + problem);
        this.offset = offset;
        this.problem = problem;
    }

    public long offset() {
        return offset;
    }

    public String problem() {
        return problem;
    }
}
