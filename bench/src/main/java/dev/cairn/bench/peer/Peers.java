package dev.cairn.bench.peer;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** Every JVM-side peer, in the order reports list them. The native C floor lives in the stress runner. */
public final class Peers {
    /** Debian's file names (packages {@code libmimalloc2.0} and {@code libjemalloc2}). */
    public static final String MIMALLOC_LIBRARY = "libmimalloc.so.2";
    public static final String JEMALLOC_LIBRARY = "libjemalloc.so.2";

    private static final Supplier<Optional<String>> ALWAYS = Optional::empty;
    private static final List<String> NO_FLAGS = List.of();
    private static final Map<String, String> NO_ENV = Map.of();
    private static final List<PeerSpec> ALL = List.of(
            new PeerSpec("cairn-checked", PeerSpec.Family.CAIRN, "Cairn, checked mode, a Heap per thread", true,
                    NO_FLAGS, NO_ENV, ALWAYS, () -> new CairnPeer("cairn-checked", true)),
            new PeerSpec("cairn-unchecked", PeerSpec.Family.CAIRN, "Cairn, unchecked mode, a Heap per thread", true,
                    NO_FLAGS, NO_ENV, ALWAYS, () -> new CairnPeer("cairn-unchecked", false)),
            new PeerSpec("glibc", PeerSpec.Family.NATIVE_FFM, "glibc malloc/free, critical FFM downcalls", true,
                    NO_FLAGS, NO_ENV, ALWAYS,
                    () -> DowncallPeer.of("glibc", Linker.nativeLinker().defaultLookup(), "malloc", "free")),
            new PeerSpec("mimalloc", PeerSpec.Family.NATIVE_FFM, "mimalloc mi_malloc/mi_free, critical FFM downcalls",
                    true, NO_FLAGS, NO_ENV, () -> libraryMissing(MIMALLOC_LIBRARY, "libmimalloc2.0"),
                    () -> DowncallPeer.of("mimalloc", library(MIMALLOC_LIBRARY), "mi_malloc", "mi_free")),
            new PeerSpec("jemalloc", PeerSpec.Family.NATIVE_FFM, "jemalloc malloc/free, critical FFM downcalls "
                    + "(preloaded: the JVM's own malloc is jemalloc too)", true, NO_FLAGS, Jemalloc.ENVIRONMENT,
                    () -> Jemalloc.PATH == null ? Optional.of(JEMALLOC_LIBRARY + " not found (Debian package "
                            + "libjemalloc2; scripts/bench installs it when run as root)") : Optional.empty(),
                    () -> DowncallPeer.of("jemalloc", library(JEMALLOC_LIBRARY), "malloc", "free")),
            new PeerSpec("unsafe", PeerSpec.Family.JVM, "sun.misc.Unsafe allocateMemory/freeMemory", true,
                    List.of("--sun-misc-unsafe-memory-access=allow"), NO_ENV, ALWAYS, UnsafePeer::new),
            new PeerSpec("arena-confined", PeerSpec.Family.JVM, "one Arena.ofConfined() per block", false,
                    NO_FLAGS, NO_ENV, ALWAYS, ArenaPeer::new),
            new PeerSpec("netty-pooled", PeerSpec.Family.JVM, "Netty PooledByteBufAllocator direct buffers", true,
                    NettyFlags.FLAGS, NO_ENV, ALWAYS, NettyPeer::pooled),
            new PeerSpec("netty-adaptive", PeerSpec.Family.JVM, "Netty AdaptiveByteBufAllocator direct buffers",
                    true, NettyFlags.FLAGS, NO_ENV, ALWAYS, NettyPeer::adaptive),
            new PeerSpec("chronicle-bytes", PeerSpec.Family.JVM, "Chronicle Bytes native stores", true,
                    ChronicleBytesPeer.JVM_FLAGS, NO_ENV, ALWAYS, ChronicleBytesPeer::new),
            new PeerSpec("byte-array", PeerSpec.Family.JVM, "new byte[] on the Java heap (the on-heap reference)",
                    true, NO_FLAGS, NO_ENV, ALWAYS, ByteArrayPeer::new));

    private Peers() {
    }

    public static List<PeerSpec> all() {
        return ALL;
    }

    /** The peer called {@code name}, if there is one. */
    public static Optional<PeerSpec> byName(String name) {
        return ALL.stream().filter(spec -> spec.name().equals(name)).findFirst();
    }

    private static SymbolLookup library(String file) {
        return SymbolLookup.libraryLookup(file, Arena.global());
    }

    private static Optional<String> libraryMissing(String file, String debianPackage) {
        try {
            library(file);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(file + " not found (Debian package " + debianPackage + "; scripts/bench installs it "
                    + "when run as root)");
        }
    }

    /**
     * Debian's jemalloc uses initial-exec TLS, so {@code dlopen} refuses it once the process runs ("cannot allocate
     * memory in static TLS block"); it has to be there from the start. Its forked JVM gets it through
     * {@code LD_PRELOAD}, which makes it the JVM's own malloc as well (as in mimalloc-bench, which preloads every
     * allocator); the peer then finds the already loaded library.
     */
    private static final class Jemalloc {
        static final String PATH = find(JEMALLOC_LIBRARY);
        static final Map<String, String> ENVIRONMENT = PATH == null ? Map.of() : Map.of("LD_PRELOAD", PATH);
    }

    /** The library's file in the usual Debian and Linux library folders, or null. */
    static String find(String file) {
        for (String dir : List.of("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib")) {
            java.nio.file.Path path = java.nio.file.Path.of(dir, file);
            if (java.nio.file.Files.isReadable(path)) {
                return path.toString();
            }
        }
        return null;
    }

    /** Netty's flags: no leak-detector sampling, and the Unsafe access its direct buffers use. */
    private static final class NettyFlags {
        static final List<String> FLAGS = List.of("-Dio.netty.leakDetection.level=disabled",
                "--sun-misc-unsafe-memory-access=allow");
    }
}
