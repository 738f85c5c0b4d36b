package dev.cairn.bench.peer;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A native allocator's malloc and free called through FFM downcalls, as a Java program would call them. The
 * downcalls are {@code critical}: no thread-state transition, the cheapest call FFM offers (about 5 ns per call on
 * the project's VM), so a native allocator is measured at its best. The same class serves glibc (the process's
 * default {@code malloc}) and mimalloc or jemalloc loaded from their shared libraries.
 */
final class DowncallPeer implements Peer {
    private final String name;
    private final MethodHandle malloc;
    private final MethodHandle free;

    private DowncallPeer(String name, MethodHandle malloc, MethodHandle free) {
        this.name = name;
        this.malloc = malloc;
        this.free = free;
    }

    /** The given symbols found by {@code lookup}; a missing symbol is an {@link IllegalStateException}. */
    static DowncallPeer of(String name, SymbolLookup lookup, String mallocSymbol, String freeSymbol) {
        Linker linker = Linker.nativeLinker();
        MethodHandle malloc = linker.downcallHandle(find(lookup, mallocSymbol, name),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), Linker.Option.critical(false));
        MethodHandle free = linker.downcallHandle(find(lookup, freeSymbol, name),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG), Linker.Option.critical(false));
        return new DowncallPeer(name, malloc, free);
    }

    private static MemorySegment find(SymbolLookup lookup, String symbol, String peer) {
        return lookup.find(symbol).orElseThrow(() -> new IllegalStateException(peer + ": no symbol " + symbol));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PeerThread forThread() {
        return new View(name, malloc, free);
    }

    @Override
    public void close() {
        // Libraries stay loaded (global arena); nothing to give back.
    }

    private static final class View extends AddressPeerThread {
        private final String name;
        private final MethodHandle malloc;
        private final MethodHandle free;

        View(String name, MethodHandle malloc, MethodHandle free) {
            this.name = name;
            this.malloc = malloc;
            this.free = free;
        }

        @Override
        public long malloc(long size) {
            long address;
            try {
                address = (long) malloc.invokeExact(size);
            } catch (Throwable t) {
                throw new IllegalStateException(name + ": malloc downcall failed", t);
            }
            if (address == 0) {
                throw outOfMemory(name, size);
            }
            return address;
        }

        @Override
        public void free(long handle) {
            try {
                free.invokeExact(handle);
            } catch (Throwable t) {
                throw new IllegalStateException(name + ": free downcall failed", t);
            }
        }
    }
}
