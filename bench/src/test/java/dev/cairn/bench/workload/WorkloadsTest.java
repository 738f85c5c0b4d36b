package dev.cairn.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerSpec;
import dev.cairn.bench.peer.Peers;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every workload, tiny, with every peer that can run in this JVM: each must free every block it allocated, read
 * back every check byte it wrote, and allocate exactly as many blocks as its parameters say.
 */
class WorkloadsTest {

    static Stream<Arguments> workloadsAndPeers() {
        return Workloads.all().stream()
                .flatMap(w -> Peers.all().stream().map(p -> Arguments.of(w.name(), p.name())));
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("workloadsAndPeers")
    void runsTinyAndAccountsForEveryBlock(String workloadName, String peerName) throws InterruptedException {
        Workload workload = Workloads.byName(workloadName).orElseThrow();
        PeerSpec spec = Peers.byName(peerName).orElseThrow();
        assumeTrue(spec.unavailableReason().isEmpty(), () -> peerName + ": " + spec.unavailableReason().get());
        assumeTrue(spec.crossThread() || !workload.crossThread(), "peer cannot free across threads");
        Peer peer = createOrSkip(spec);
        int threads = 2;
        Params params = Params.of(workloadName, workload.params(), ParamSpec.Preset.SMOKE, Map.of(), true);
        try (peer) {
            WorkloadResult first = workload.run(peer, threads, params);
            WorkloadResult second = workload.run(peer, threads, params); // reusable in one JVM (warm-up, reps)
            for (WorkloadResult result : new WorkloadResult[] {first, second}) {
                assertTrue(result.mallocs() > 0, "allocated nothing");
                assertEquals(result.mallocs(), result.frees(), "every block freed");
                // Each freed block's two check bytes are a tag and its complement: 255 per block, read back.
                assertEquals(255 * result.frees(), result.checksum(), "check bytes read back");
                assertTrue(result.elapsedNanos() > 0);
                expectedMallocs(workloadName, params, threads)
                        .ifPresent(expected -> assertEquals(expected, result.mallocs(), "mallocs"));
            }
        }
    }

    /**
     * Blocks a workload must allocate, where its parameters fix the count (stress, rptest and alloc-test draw it at
     * random, sh8bench's follows from its ring's walk).
     */
    static java.util.OptionalLong expectedMallocs(String workload, Params p, int threads) {
        return switch (workload) {
            case "pairs" -> java.util.OptionalLong.of(p.get("ops") * threads);
            case "batch" -> java.util.OptionalLong.of(p.get("rounds") * p.get("blocks") * threads);
            case "sh6bench" -> java.util.OptionalLong.of(p.get("rounds") * p.get("calls") * threads);
            case "xmalloc" -> java.util.OptionalLong.of(p.get("batches") * p.get("batchSize") * threads);
            case "larson", "larson-virtual" -> java.util.OptionalLong.of(
                    p.get("slots") * threads + p.get("steps") * p.get("generations") * threads);
            case "cache-scratch" -> java.util.OptionalLong.of(threads + p.get("iterations") * threads);
            case "cache-thrash", "malloc-large" -> java.util.OptionalLong.of(p.get("iterations") * threads);
            case "glibc-thread" -> java.util.OptionalLong.of(p.get("ops") * threads);
            case "mleak" -> java.util.OptionalLong.of(p.get("rounds") * threads);
            // three phases of sizes 16, 32, 64 and batches of 25, 100, 400, 1600 (at least one round each)
            case "glibc-simple" -> java.util.OptionalLong.of(3 * 3 * threads
                    * java.util.stream.LongStream.of(25, 100, 400, 1600)
                            .map(n -> Math.max(1, p.get("iterations") / n) * n).sum());
            default -> java.util.OptionalLong.empty();
        };
    }

    /** jemalloc can only be loaded at process start (LD_PRELOAD), which the runner does and a test JVM does not. */
    static Peer createOrSkip(PeerSpec spec) {
        try {
            return spec.create();
        } catch (IllegalArgumentException e) {
            assumeTrue(!spec.environment().isEmpty(), "only preload-only peers may fail to load: " + e);
            assumeTrue(false, spec.name() + " needs its forked JVM's environment " + spec.environment());
            throw e;
        }
    }
}
