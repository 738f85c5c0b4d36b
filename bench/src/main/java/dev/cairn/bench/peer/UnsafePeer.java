package dev.cairn.bench.peer;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * {@code sun.misc.Unsafe.allocateMemory}/{@code freeMemory}: the JDK's old off-heap allocator (os::malloc, glibc
 * underneath, plus the JDK's own bookkeeping). Allowed in {@code bench} only, as a peer; it is deprecated for
 * removal, and the forked JVM runs with {@code --sun-misc-unsafe-memory-access=allow} to keep it quiet.
 */
final class UnsafePeer implements Peer {
    private static final Unsafe UNSAFE = load();

    @SuppressWarnings("removal")
    private static Unsafe load() {
        try {
            Field field = Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("sun.misc.Unsafe is not reachable", e);
        }
    }

    @Override
    public String name() {
        return "unsafe";
    }

    @Override
    public PeerThread forThread() {
        return new View();
    }

    @Override
    public void close() {
    }

    private static final class View extends AddressPeerThread {
        @Override
        @SuppressWarnings("removal")
        public long malloc(long size) {
            return UNSAFE.allocateMemory(size); // throws OutOfMemoryError itself
        }

        @Override
        @SuppressWarnings("removal")
        public void free(long handle) {
            UNSAFE.freeMemory(handle);
        }
    }
}
