package dev.cairn.bench.peer;

/**
 * A peer as seen by one thread. A handle allocated by one thread's view may be freed through another thread's view
 * (cross-thread frees), except for peers whose {@link PeerSpec#crossThread()} is false.
 */
public interface PeerThread {

    /** A block of at least {@code size} bytes; never 0. */
    long malloc(long size);

    /** Frees a block; {@code handle} came from {@link #malloc} of any view of the same peer. */
    void free(long handle);

    void putByte(long handle, long offset, byte value);

    byte getByte(long handle, long offset);

    /** Called once when the owning thread is done with this view (object peers hand back their cached slots). */
    default void detach() {
    }
}
