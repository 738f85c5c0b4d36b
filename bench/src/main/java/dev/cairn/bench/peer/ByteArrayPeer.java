package dev.cairn.bench.peer;

/**
 * {@code new byte[size]}: the on-heap reference. "Free" drops the reference and leaves the rest to the garbage
 * collector, whose work (and the heap it grows) is part of the measured time and RSS.
 */
final class ByteArrayPeer extends ObjectPeer<byte[]> {

    ByteArrayPeer() {
        super("byte-array");
    }

    @Override
    byte[] allocate(long size) {
        return new byte[Math.toIntExact(size)];
    }

    @Override
    void release(byte[] block) {
    }

    @Override
    void put(byte[] block, long offset, byte value) {
        block[(int) offset] = value;
    }

    @Override
    byte get(byte[] block, long offset) {
        return block[(int) offset];
    }
}
