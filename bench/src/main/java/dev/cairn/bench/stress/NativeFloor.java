package dev.cairn.bench.stress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The no-JVM floor: {@code bench/native/floor.c} built by {@code scripts/bench} once per C allocator into the
 * native build folder, running the pairs, batch, glibc-simple and alloc-test workloads with the same sizes and
 * orders as the Java ones.
 */
public final class NativeFloor {
    /** The workloads floor.c implements. */
    public static final List<String> WORKLOADS = List.of("pairs", "batch", "glibc-simple", "alloc-test");
    /** Peer names and the binary each one runs. */
    public static final List<String> PEERS = List.of("c-glibc", "c-mimalloc", "c-jemalloc");

    private NativeFloor() {
    }

    public static boolean isNativePeer(String name) {
        return PEERS.contains(name);
    }

    /** The binary for a {@code c-...} peer: {@code floor-glibc} and so on. */
    public static Path binary(Path nativeDir, String peer) {
        return nativeDir.resolve("floor-" + peer.substring(2));
    }

    /** Why the peer cannot run: no native folder given, or its binary was not built (library missing). */
    public static Optional<String> unavailableReason(Path nativeDir, String peer) {
        if (nativeDir == null) {
            return Optional.of("no native build folder (scripts/bench builds bench/native/floor.c into one)");
        }
        Path binary = binary(nativeDir, peer);
        if (!Files.isExecutable(binary)) {
            return Optional.of(binary + " not built (gcc or the allocator's library missing)");
        }
        return Optional.empty();
    }
}
