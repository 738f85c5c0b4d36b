package dev.cairn.bench.alloc;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerSpec;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.workload.ParamSpec;
import dev.cairn.bench.workload.Params;
import dev.cairn.bench.workload.Workload;
import dev.cairn.bench.workload.WorkloadResult;
import dev.cairn.bench.workload.Workloads;
import java.lang.management.ManagementFactory;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * How often a stress workload leaves the allocator's fast paths: runs one workload of {@code scripts/bench} (quick
 * preset, default threads) on a Cairn peer in this JVM, {@code runs} times, and prints for the last three runs the
 * time and the allocator's counters over the run (slow-path calls, remote frees, segments reclaimed), read from the
 * allocator's MBean. The counts do not depend on the machine's speed, so they show a change in the allocator's
 * policies where a loaded machine hides it in the times.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.cairn.bench.alloc.SlowPathCount
 *     WORKLOAD [cairn-checked|cairn-unchecked] [runs]</pre>
 */
public final class SlowPathCount {

    private SlowPathCount() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: SlowPathCount WORKLOAD [cairn-checked|cairn-unchecked] [runs]");
            System.exit(2);
        }
        Workload workload = Workloads.byName(args[0]).orElseThrow(
                () -> new IllegalArgumentException("unknown workload " + args[0]));
        String peerName = args.length > 1 ? args[1] : "cairn-checked";
        if (!peerName.startsWith("cairn")) {
            throw new IllegalArgumentException("a Cairn peer: the counters are Cairn's");
        }
        PeerSpec spec = Peers.byName(peerName).orElseThrow(
                () -> new IllegalArgumentException("unknown peer " + peerName));
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 6;
        Params params = Params.of(workload.name(), workload.params(), ParamSpec.Preset.QUICK, Map.of(), false);
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try (Peer peer = spec.create()) {
            ObjectName allocator = server.queryNames(new ObjectName("dev.cairn:type=Allocator,*"), null)
                    .iterator().next();
            for (int run = 1; run <= runs; run++) {
                String before = (String) server.getAttribute(allocator, "StatsJson");
                WorkloadResult result = workload.run(peer, workload.defaultThreads(), params);
                String after = (String) server.getAttribute(allocator, "StatsJson");
                if (run > runs - 3) {
                    System.out.printf("%s %s run %d: %.1f ms, %d operations, %d slow paths, %d remote frees, "
                            + "%d segments reclaimed%n", workload.name(), peerName, run, result.elapsedNanos() / 1e6,
                            result.operations(), delta(before, after, "slowPathCalls"),
                            delta(before, after, "remoteFrees"), delta(before, after, "segmentsReclaimed"));
                }
            }
        }
    }

    private static long delta(String before, String after, String key) {
        return field(after, key) - field(before, key);
    }

    /** A number field of the stats JSON (flat keys, non-negative integers). */
    private static long field(String json, String key) {
        int start = json.indexOf("\"" + key + "\":");
        if (start < 0) {
            throw new IllegalStateException("no " + key + " in " + json);
        }
        start += key.length() + 3;
        int end = start;
        while (end < json.length() && Character.isDigit(json.charAt(end))) {
            end++;
        }
        return Long.parseLong(json.substring(start, end));
    }
}
