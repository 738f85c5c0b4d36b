package dev.cairn.bench.support;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.Heap;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * One allocator under test, behind the smallest interface the workloads need: {@code malloc} returns a handle
 * (the address for real allocators), {@code free} takes it back. Peers: {@code cairn-checked},
 * {@code cairn-unchecked} (through {@code Allocator}), {@code cairn-checked-heap}, {@code cairn-unchecked-heap}
 * (through a held {@code Heap}), {@code glibc} (malloc/free through critical FFM downcalls: no thread-state
 * transition, the cheapest call FFM offers), {@code glibc-plain} (the same through default downcalls, as a program
 * that does not ask for {@code Linker.Option.critical} makes them), {@code mimalloc} ({@code mi_malloc}/{@code mi_free}
 * from Debian's {@code libmimalloc.so.2}, critical downcalls; not in the benchmarks' default peer lists, since
 * {@code scripts/jmh} installs nothing: pass it with {@code -p peer=...}), {@code arena} (one {@code Arena.ofConfined()}
 * per allocation; handles index a table of arenas, single-threaded only).
 */
public interface MallocPeer extends AutoCloseable {

    long malloc(long size);

    void free(long handle);

    @Override
    void close();

    /** The peer named {@code name}. */
    static MallocPeer create(String name) {
        return switch (name) {
            case "cairn-checked" -> new CairnPeer(true);
            case "cairn-unchecked" -> new CairnPeer(false);
            case "cairn-checked-heap" -> new CairnHeapPeer(true);
            case "cairn-unchecked-heap" -> new CairnHeapPeer(false);
            case "glibc" -> new GlibcPeer();
            case "glibc-plain" -> new GlibcPlainPeer();
            case "mimalloc" -> new MimallocPeer();
            case "arena" -> new ArenaPeer();
            default -> throw new IllegalArgumentException("unknown peer: " + name);
        };
    }

    /** Cairn through the calling thread's heap (looked up per call, as {@code Allocator.malloc} does). */
    final class CairnPeer implements MallocPeer {
        private final Allocator allocator;

        CairnPeer(boolean checked) {
            allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build());
        }

        @Override
        public long malloc(long size) {
            return allocator.malloc(size);
        }

        @Override
        public void free(long handle) {
            allocator.free(handle);
        }

        @Override
        public void close() {
            allocator.close();
        }
    }

    /**
     * Cairn through a {@link Heap} held by the caller (the documented way to skip the thread-local lookup in hot
     * loops). Single-threaded use only: the heap belongs to the thread that created the peer.
     */
    final class CairnHeapPeer implements MallocPeer {
        private final Allocator allocator;
        private final Heap heap;

        CairnHeapPeer(boolean checked) {
            allocator = Allocator.create(AllocatorConfig.builder().checked(checked).build());
            heap = allocator.heap();
        }

        @Override
        public long malloc(long size) {
            return heap.malloc(size);
        }

        @Override
        public void free(long handle) {
            heap.free(handle);
        }

        @Override
        public void close() {
            allocator.close();
        }
    }

    /** glibc's malloc and free, called through the FFM API as a Java program would. */
    final class GlibcPeer implements MallocPeer {
        private static final MethodHandle MALLOC = Downcalls.downcall("malloc", Linker.Option.critical(false));
        private static final MethodHandle FREE = Downcalls.downcall("free", Linker.Option.critical(false));

        @Override
        public long malloc(long size) {
            return Downcalls.malloc(MALLOC, size);
        }

        @Override
        public void free(long handle) {
            Downcalls.free(FREE, handle);
        }

        @Override
        public void close() {
        }
    }

    /**
     * glibc's malloc and free through default downcalls (each one switches the thread's state to native and back).
     * Its own class so that its handles are static final constants too, which the JIT inlines through.
     */
    final class GlibcPlainPeer implements MallocPeer {
        private static final MethodHandle MALLOC = Downcalls.downcall("malloc");
        private static final MethodHandle FREE = Downcalls.downcall("free");

        @Override
        public long malloc(long size) {
            return Downcalls.malloc(MALLOC, size);
        }

        @Override
        public void free(long handle) {
            Downcalls.free(FREE, handle);
        }

        @Override
        public void close() {
        }
    }

    /** mimalloc's {@code mi_malloc} and {@code mi_free} through critical downcalls (the library must be installed). */
    final class MimallocPeer implements MallocPeer {
        private static final SymbolLookup LIBRARY = Downcalls.library(dev.cairn.bench.peer.Peers.MIMALLOC_LIBRARY,
                "libmimalloc2.0");
        private static final MethodHandle MALLOC = Downcalls.downcall(LIBRARY, "mi_malloc", Linker.Option.critical(false));
        private static final MethodHandle FREE = Downcalls.downcall(LIBRARY, "mi_free", Linker.Option.critical(false));

        @Override
        public long malloc(long size) {
            return Downcalls.malloc(MALLOC, size);
        }

        @Override
        public void free(long handle) {
            Downcalls.free(FREE, handle);
        }

        @Override
        public void close() {
        }
    }

    /**
     * The native peers' downcalls; callers pass static final handles, which stay constants once this is inlined (so
     * each peer is its own class with its own handles).
     */
    final class Downcalls {
        private static final Linker LINKER = Linker.nativeLinker();

        private Downcalls() {
        }

        /** {@code malloc} ({@code long -> long}) or {@code free} ({@code long -> void}), with {@code options}. */
        static MethodHandle downcall(String name, Linker.Option... options) {
            return downcall(LINKER.defaultLookup(), name, options);
        }

        /** The shared library {@code file}, or an error naming the Debian package that installs it. */
        static SymbolLookup library(String file, String debianPackage) {
            try {
                return SymbolLookup.libraryLookup(file, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(file + " not found: install the Debian package " + debianPackage
                        + " (scripts/bench installs it when run as root)", e);
            }
        }

        /** As above, from {@code library}: a name ending in {@code malloc} is the allocation, any other the free. */
        static MethodHandle downcall(SymbolLookup library, String name, Linker.Option... options) {
            FunctionDescriptor descriptor = name.endsWith("malloc")
                    ? FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG)
                    : FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG);
            return LINKER.downcallHandle(library.find(name).orElseThrow(), descriptor, options);
        }

        static long malloc(MethodHandle malloc, long size) {
            try {
                return (long) malloc.invokeExact(size);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        static void free(MethodHandle free, long address) {
            try {
                free.invokeExact(address);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** {@code Arena.ofConfined()} per allocation: the FFM API's own way to get and give back one block. */
    final class ArenaPeer implements MallocPeer {
        private Arena[] arenas = new Arena[1024];
        private int[] freeSlots = new int[1024];
        private int freeCount;
        private int used;

        @Override
        public long malloc(long size) {
            Arena arena = Arena.ofConfined();
            arena.allocate(size, 16);
            int slot;
            if (freeCount > 0) {
                slot = freeSlots[--freeCount];
            } else {
                if (used == arenas.length) {
                    arenas = java.util.Arrays.copyOf(arenas, used * 2);
                    freeSlots = java.util.Arrays.copyOf(freeSlots, used * 2);
                }
                slot = used++;
            }
            arenas[slot] = arena;
            return slot;
        }

        @Override
        public void free(long handle) {
            int slot = (int) handle;
            arenas[slot].close();
            arenas[slot] = null;
            freeSlots[freeCount++] = slot;
        }

        @Override
        public void close() {
            for (Arena arena : arenas) {
                if (arena != null) {
                    arena.close();
                }
            }
        }
    }
}
