package dev.cairn.bench.peer;

import dev.cairn.segments.raw.Raw;

/**
 * Base for peers whose handles are addresses: every one of them reads and writes its blocks through the same
 * {@link Raw} accesses, so differences between them come from malloc and free alone.
 */
abstract class AddressPeerThread implements PeerThread {

    @Override
    public final void putByte(long handle, long offset, byte value) {
        Raw.putByte(handle + offset, value);
    }

    @Override
    public final byte getByte(long handle, long offset) {
        return Raw.getByte(handle + offset);
    }

    /** An allocator that returned NULL: the workload cannot go on, and a 0 handle must never reach it. */
    static OutOfMemoryError outOfMemory(String peer, long size) {
        return new OutOfMemoryError(peer + ": malloc(" + size + ") returned NULL");
    }
}
