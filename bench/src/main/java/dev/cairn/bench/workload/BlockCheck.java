package dev.cairn.bench.workload;

import dev.cairn.bench.peer.PeerThread;

/**
 * Every block a workload allocates gets its first and last byte written with a tag derived from its handle and
 * size, and both are read back and checked just before it is freed. So no allocator gets away with memory it
 * never touches, and an allocator that hands one block out twice (or lets blocks overlap) is caught: the second
 * owner's tag overwrites the first's.
 */
public final class BlockCheck {
    private BlockCheck() {
    }

    static byte tag(long handle, long size) {
        long x = (handle ^ (size << 40)) * 0x9E3779B97F4A7C15L;
        return (byte) (x >>> 56);
    }

    /** Writes the block's first and last byte (one byte, the tag, for a 1-byte block). */
    public static void fill(PeerThread peer, long handle, long size) {
        byte tag = tag(handle, size);
        peer.putByte(handle, 0, tag);
        if (size > 1) {
            peer.putByte(handle, size - 1, (byte) ~tag);
        }
    }

    /**
     * Checks the two bytes {@link #fill} wrote, frees the block and counts it in {@code tally}.
     *
     * @throws BlockCorruptedException when a byte differs
     */
    public static void checkAndFree(PeerThread peer, long handle, long size, Tally tally) {
        byte tag = tag(handle, size);
        byte first = peer.getByte(handle, 0);
        byte last = size > 1 ? peer.getByte(handle, size - 1) : (byte) ~first;
        if (first != tag || last != (byte) ~tag) {
            throw new BlockCorruptedException(handle, size, tag, first, last);
        }
        peer.free(handle);
        tally.freed(first, last);
    }

    /**
     * Writes one byte in every 8 between the check bytes (every word of the block is touched, as the originals that
     * write a whole block do, at an eighth of the calls).
     */
    public static void touch(PeerThread peer, long handle, long size) {
        for (long offset = 8; offset < size - 1; offset += 8) {
            peer.putByte(handle, offset, (byte) offset);
        }
    }

    /** Allocates, fills and counts one block. */
    public static long mallocFilled(PeerThread peer, long size, Tally tally) {
        long handle = peer.malloc(size);
        fill(peer, handle, size);
        tally.allocated(size);
        return handle;
    }

    /** A block whose check bytes changed between its malloc and its free. */
    public static final class BlockCorruptedException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        BlockCorruptedException(long handle, long size, byte tag, byte first, byte last) {
            super("block " + Long.toHexString(handle) + " of " + size + " bytes was overwritten: first byte "
                    + first + " (wrote " + tag + "), last byte " + last + " (wrote " + (byte) ~tag + ")");
        }
    }
}
