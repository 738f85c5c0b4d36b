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
 * code up with the workload's smoke preset, run again and again for at least {@value #WARMUP_MILLIS} ms and until
 * the JIT has gone quiet (below; so C2 compiles the hot paths now: its compiler arenas take several MiB of native
 * memory, which would otherwise land in the peak); collect the Java heap and let it settle; read the idle RSS and
 * reset the peak; run full-size repetitions unmeasured until three in a row add almost no compilation ({@link
 * #settleOnFullSize}) and then the measured ones; read the peak. So "RSS added" is this
 * workload on this peer, not JVM start-up. Before the report it prints the process's CPU time and minor faults per
 * measured repetition ({@link ProcessCost}), for A/B comparisons on a noisy machine.
 *
 * <p>Why the warm-up waits for the JIT: Cairn's own code costs C1 and C2 far more compilation than a peer behind a
 * downcall (every FFM access inlines into hundreds of IR nodes): one larson child spent 2.4 s of compiler CPU with
 * Cairn against 0.4 s with mimalloc ({@code -XX:+CITime}). With a fixed 400 ms warm-up the compiler threads were
 * still taking CPU from the workload's threads on two vCPUs, and a JIT-heavy peer's measured repetitions fell from
 * 120 to 50 ms one after the other. So the warm-up goes on until a {@value #QUIET_WINDOW_MILLIS} ms window adds at
 * most {@value #QUIET_COMPILE_MILLIS} ms of compilation (at most {@value #MAX_WARMUP_MILLIS} ms), for every peer
 * alike; it stays on the smoke preset, so the memory it leaves behind is as small as before. What a short-lived
 * program pays for the warm-up is in docs/benchmarks.md, not in these tables. A {@code --smoke} run (CI's), which
 * proves every cell runs and reports no numbers, keeps the fixed {@value #WARMUP_MILLIS} ms.
 *
 * <p>Arguments: {@code WORKLOAD PEER THREADS PRESET REPS [name=value ...]}; it is started by {@link ChildLauncher},
 * not by people, so errors are terse.
 */
public final class ChildMain {
    static final long WARMUP_MILLIS = 400;
    private static final long SETTLE_MILLIS = 100;
    /** The warm-up ends once a window of {@value #QUIET_WINDOW_MILLIS} ms adds at most this much compilation. */
    static final long QUIET_COMPILE_MILLIS = 5;
    static final long QUIET_WINDOW_MILLIS = 100;
    /** The longest warm-up, whatever the JIT does. */
    static final long MAX_WARMUP_MILLIS = 6_000;
    /** The most unmeasured full-size repetitions after the warm-up, and the longest time they may take. */
    static final int MAX_SETTLE_REPS = 20;
    static final long MAX_SETTLE_MILLIS = 3_000;
    /** Full-size repetitions in a row that must each add at most {@value #QUIET_COMPILE_MILLIS} ms of compilation. */
    static final int QUIET_REPS = 3;

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
        // The smoke preset proves that every cell runs and gives no numbers: it does not wait for the JIT.
        System.out.println(measure(workload, spec, threads, params, reps, preset != ParamSpec.Preset.SMOKE).format());
    }

    /** The whole measurement of one (workload, peer) in this JVM. */
    static ChildReport measure(Workload workload, PeerSpec spec, int threads, Params params, int reps,
            boolean waitForTheJit) throws InterruptedException {
        try (Peer peer = spec.create()) {
            Params warmup = Params.of(workload.name(), workload.params(), ParamSpec.Preset.SMOKE, Map.of(), false);
            warmUp(workload, peer, threads, warmup, waitForTheJit);
            System.gc();
            Thread.sleep(SETTLE_MILLIS); // the collector's uncommit and the compiler threads quiet down
            long idle = Rss.currentBytes();
            Rss.resetPeak();
            long mallocs = 0;
            long frees = 0;
            WorkloadResult first = workload.run(peer, threads, params); // JIT settles on the full-size loop
            mallocs += first.mallocs();
            frees += first.frees();
            if (waitForTheJit) {
                long[] counts = settleOnFullSize(workload, peer, threads, params);
                mallocs += counts[0];
                frees += counts[1];
            }
            List<Long> times = new ArrayList<>();
            ProcessCost before = ProcessCost.now();
            for (int r = 0; r < reps; r++) {
                WorkloadResult result = workload.run(peer, threads, params);
                times.add(result.elapsedNanos());
                mallocs += result.mallocs();
                frees += result.frees();
            }
            System.out.println(ProcessCost.line(before, ProcessCost.now(), reps));
            return new ChildReport(times, first.operations(), idle, Math.max(Rss.peakBytes(), idle),
                    Rss.currentBytes(), mallocs, frees);
        }
    }

    /**
     * Full-size repetitions, unmeasured, until {@value #QUIET_REPS} in a row each add at most {@value
     * #QUIET_COMPILE_MILLIS} ms of compilation (C2 compiles in bursts, with quiet repetitions between them), at most
     * {@value #MAX_SETTLE_REPS} of them, started within {@value #MAX_SETTLE_MILLIS} ms. The smoke preset reaches the
     * fast paths' compile thresholds but not the slow paths' (a page filled, a segment adopted, a thread's heap
     * reaped), which a full-size run crosses once per page or thread: without this, C2 compiled them during the
     * measured repetitions, and Cairn's larson fell from 59 to 13 ms over twelve of them (docs/benchmarks.md).
     * They run after the idle RSS is read, as the first full-size run does, so their memory is in the peak and "RSS
     * added" keeps its meaning. Returns the mallocs and frees they made.
     */
    private static long[] settleOnFullSize(Workload workload, Peer peer, int threads, Params params)
            throws InterruptedException {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        long[] counts = new long[2];
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return counts;
        }
        long start = System.nanoTime();
        int quietInARow = 0;
        for (int i = 0; i < MAX_SETTLE_REPS && quietInARow < QUIET_REPS
                && (System.nanoTime() - start) / 1_000_000 < MAX_SETTLE_MILLIS; i++) {
            long compiledBefore = jit.getTotalCompilationTime();
            WorkloadResult result = workload.run(peer, threads, params);
            counts[0] += result.mallocs();
            counts[1] += result.frees();
            boolean quiet = jit.getTotalCompilationTime() - compiledBefore <= QUIET_COMPILE_MILLIS;
            quietInARow = quiet ? quietInARow + 1 : 0;
        }
        return counts;
    }

    /**
     * The smoke preset, again and again, for at least WARMUP_MILLIS and, when {@code waitForTheJit}, until the JIT is
     * quiet (class comment).
     */
    private static void warmUp(Workload workload, Peer peer, int threads, Params warmup, boolean waitForTheJit)
            throws InterruptedException {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean timed = waitForTheJit && jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        long windowStart = start;
        long compiledAtWindowStart = timed ? jit.getTotalCompilationTime() : 0;
        for (int i = 0; ; i++) {
            workload.run(peer, threads, warmup);
            long now = System.nanoTime();
            long elapsedMillis = (now - start) / 1_000_000;
            if (i < 2 || elapsedMillis < WARMUP_MILLIS) {
                continue;
            }
            if (!timed || elapsedMillis >= MAX_WARMUP_MILLIS) {
                return;
            }
            if ((now - windowStart) / 1_000_000 >= QUIET_WINDOW_MILLIS) {
                long compiled = jit.getTotalCompilationTime();
                if (compiled - compiledAtWindowStart <= QUIET_COMPILE_MILLIS) {
                    return;
                }
                windowStart = now;
                compiledAtWindowStart = compiled;
            }
        }
    }
}
