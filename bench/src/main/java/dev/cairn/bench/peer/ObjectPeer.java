package dev.cairn.bench.peer;

/**
 * Base for peers that hand out objects instead of addresses: the object lives in a {@link HandleTable} slot and the
 * workload holds the slot's handle. Subclasses say how to get, release, write and read one object.
 *
 * @param <T> what one block is for this peer
 */
abstract class ObjectPeer<T> implements Peer {
    private final String name;
    private final HandleTable<T> table = new HandleTable<>();

    ObjectPeer(String name) {
        this.name = name;
    }

    /** A new object of at least {@code size} bytes. */
    abstract T allocate(long size);

    abstract void release(T block);

    abstract void put(T block, long offset, byte value);

    abstract byte get(T block, long offset);

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final PeerThread forThread() {
        return new View(table.local());
    }

    /** For tests: how many slots the handle table created. */
    final long slotsCreated() {
        return table.slotsCreated();
    }

    @Override
    public void close() {
    }

    private final class View implements PeerThread {
        private final HandleTable<T>.Local local;

        View(HandleTable<T>.Local local) {
            this.local = local;
        }

        @Override
        public long malloc(long size) {
            return local.put(allocate(size));
        }

        @Override
        public void free(long handle) {
            release(local.remove(handle));
        }

        @Override
        public void putByte(long handle, long offset, byte value) {
            put(local.get(handle), offset, value);
        }

        @Override
        public byte getByte(long handle, long offset) {
            return get(local.get(handle), offset);
        }

        @Override
        public void detach() {
            local.donateAll();
        }
    }
}
