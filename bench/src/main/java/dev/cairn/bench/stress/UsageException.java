package dev.cairn.bench.stress;

/** A bad command line: the message says what was wrong and is printed as it is, with the usage after it. */
public final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
