package dev.cairn.bench.stress;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerSpec;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.workload.ParamSpec;
import dev.cairn.bench.workload.Params;
import dev.cairn.bench.workload.Workload;
import dev.cairn.bench.workload.WorkloadResult;
import dev.cairn.bench.workload.Workloads;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The forked JVM: runs one workload with one peer and prints a {@link ChildReport}. Steps: build the peer; warm the
 * code up with the workload's smoke preset, run again and again for {@value #WARMUP_MILLIS} ms (so C2 compiles the
 * hot paths now: its compiler arenas take several MiB of native memory, which would otherwise land in the peak);
 * collect the Java heap and let it settle; read the idle RSS and reset the peak; run unmeasured full-size
 * repetitions until the JIT has gone quiet (see below), then the measured ones; read the peak. So "RSS added" is
 * this workload on this peer, not JVM start-up.
 *
 * <p>Why the JIT must go quiet first: Cairn's own code costs C1 and C2 far more compilation than a peer behind a
 * downcall (every FFM access inlines into hundreds of IR nodes): in one larson child, 2.4 s of compiler CPU with
 * Cairn against 0.4 s with mimalloc ({@code -XX:+CITime}). On two vCPUs the compiler threads then take CPU from the
 * workload's threads for over a second, and with one fixed warm-up the measured repetitions of a JIT-heavy peer fell
 * from 120 to 50 ms one after the other. So the unmeasured repetitions go on while the JVM's total compilation time
 * still grows by more than {@value #QUIET_COMPILE_MILLIS} ms per repetition, at least one and at most
 * {@value #MAX_SETTLE_RUNS}, for every peer alike: the measured figures are steady-state ones, as JMH's are. What a
 * short-lived program pays for the warm-up is in docs/benchmarks.md, not in these tables.
 *
 * <p>Arguments: {@code WORKLOAD PEER THREADS PRESET REPS [name=value ...]}; it is started by {@link ChildLauncher},
 * not by people, so errors are terse.
 */
public final class ChildMain {
    static final long WARMUP_MILLIS = 400;
    private static final long SETTLE_MILLIS = 100;
    /** A full-size repetition that adds no more compilation time than this finds the JIT quiet. */
    static final long QUIET_COMPILE_MILLIS = 10;
    /** The most unmeasured full-size repetitions run while waiting for the JIT to go quiet. */
    static final int MAX_SETTLE_RUNS = 10;

    private ChildMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 5) {
            System.err.println("usage: ChildMain WORKLOAD PEER THREADS PRESET REPS [name=value ...]");
            System.exit(2);
        }
        Workload workload = Workloads.byName(args[0]).orElseThrow(() -> new IllegalArgumentException(
                "unknown workload " + args[0]));
        PeerSpec spec = Peers.byName(args[1]).orElseThrow(() -> new IllegalArgumentException(
                "unknown peer " + args[1]));
        int threads = Integer.parseInt(args[2]);
        ParamSpec.Preset preset = ParamSpec.Preset.valueOf(args[3]);
        int reps = Integer.parseInt(args[4]);
        Map<String, Long> overrides = new LinkedHashMap<>();
        for (int i = 5; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            overrides.put(kv[0], Long.parseLong(kv[1]));
        }
        Params params = Params.of(workload.name(), workload.params(), preset, overrides, false);
        System.out.println(measure(workload, spec, threads, params, reps).format());
    }

    /** The whole measurement of one (workload, peer) in this JVM. */
    static ChildReport measure(Workload workload, PeerSpec spec, int threads, Params params, int reps)
            throws InterruptedException {
        try (Peer peer = spec.create()) {
            Params warmup = Params.of(workload.name(), workload.params(), ParamSpec.Preset.SMOKE, Map.of(), false);
            long warmupEnd = System.nanoTime() + WARMUP_MILLIS * 1_000_000;
            for (int i = 0; i < 3 || System.nanoTime() < warmupEnd; i++) {
                workload.run(peer, threads, warmup);
            }
            System.gc();
            Thread.sleep(SETTLE_MILLIS); // the collector's uncommit and the compiler threads quiet down
            long idle = Rss.currentBytes();
            Rss.resetPeak();
            long mallocs = 0;
            long frees = 0;
            java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
            boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
            WorkloadResult first = null;
            for (int run = 0; run < MAX_SETTLE_RUNS; run++) { // JIT settles on the full-size loop
                long compiledBefore = timed ? jit.getTotalCompilationTime() : 0;
                first = workload.run(peer, threads, params);
                mallocs += first.mallocs();
                frees += first.frees();
                if (!timed || jit.getTotalCompilationTime() - compiledBefore <= QUIET_COMPILE_MILLIS) {
                    break;
                }
            }
            List<Long> times = new ArrayList<>();
            for (int r = 0; r < reps; r++) {
                WorkloadResult result = workload.run(peer, threads, params);
                times.add(result.elapsedNanos());
                mallocs += result.mallocs();
                frees += result.frees();
            }
            return new ChildReport(times, first.operations(), idle, Math.max(Rss.peakBytes(), idle),
                    Rss.currentBytes(), mallocs, frees);
        }
    }
}
