package dev.cairn.bench.stress;

import dev.cairn.bench.peer.PeerSpec;
import dev.cairn.bench.peer.Peers;
import dev.cairn.bench.workload.ParamSpec;
import dev.cairn.bench.workload.Params;
import dev.cairn.bench.workload.Workload;
import dev.cairn.bench.workload.Workloads;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The stress runner's command line, parsed and checked before anything runs.
 *
 * @param preset smoke, quick (default) or full
 * @param workloads the workloads to run, in report order
 * @param peers peer names (JVM peers and {@code c-...} native floors), in report order
 * @param threads threads for every workload, or 0 for each workload's default
 * @param reps measured repetitions per forked process
 * @param forks forked processes per (workload, peer)
 * @param params parameter overrides, applied to every workload that has the parameter
 * @param outDir where the timestamped result folder goes
 * @param nativeDir where scripts/bench built the native floor, or null
 * @param help print the usage and stop
 * @param list print workloads, parameters and peers and stop
 */
public record RunnerArgs(ParamSpec.Preset preset, List<Workload> workloads, List<String> peers, int threads,
        int reps, int forks, Map<String, Long> params, Path outDir, Path nativeDir, boolean help, boolean list) {

    public static final String USAGE = """
            usage: scripts/bench [--smoke | --quick | --full] [--workload W,...] [--peer P,...] [--threads N]
                                 [--reps N] [--forks N] [--param NAME=VALUE]... [--out DIR] [--list]
              --quick          the default: every workload and peer, 1 forked JVM each, 3 measured repetitions
              --full           long run: larger parameters, 3 forked JVMs each, 5 repetitions
              --smoke          tiny run of every workload with every peer (CI): proves they all work
              --workload W,..  only these workloads (see --list)
              --peer P,...     only these peers (see --list)
              --threads N      threads for every workload (default: each workload's own, 1 or 2)
              --reps N         measured repetitions per forked JVM
              --forks N        forked JVMs per (workload, peer)
              --param K=V      set a workload parameter, e.g. --param ops=1000000 (every workload that has it)
              --out DIR        results folder (default: the repository's bench-results); a timestamped folder
                               is made inside
              --list           list workloads, their parameters, and peers with their availability
            """;

    /** Every peer name the runner knows: JVM peers, then the C floors. */
    public static List<String> knownPeers() {
        return Stream.concat(Peers.all().stream().map(PeerSpec::name), NativeFloor.PEERS.stream()).toList();
    }

    /**
     * Parses the command line.
     *
     * @throws UsageException with a message naming the bad argument
     */
    public static RunnerArgs parse(String... args) throws UsageException {
        ParamSpec.Preset preset = ParamSpec.Preset.QUICK;
        List<Workload> workloads = Workloads.all();
        List<String> peers = knownPeers();
        int threads = 0;
        Integer reps = null;
        Integer forks = null;
        Map<String, Long> params = new LinkedHashMap<>();
        Path outDir = Path.of("bench-results");
        Path nativeDir = null;
        boolean help = false;
        boolean list = false;
        boolean presetGiven = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--smoke", "--quick", "--full" -> {
                    if (presetGiven) {
                        throw new UsageException("give at most one of --smoke, --quick, --full");
                    }
                    presetGiven = true;
                    preset = ParamSpec.Preset.valueOf(arg.substring(2).toUpperCase(java.util.Locale.ROOT));
                }
                case "--workload" -> workloads = workloads(value(args, ++i, arg));
                case "--peer" -> peers = peers(value(args, ++i, arg));
                case "--threads" -> threads = positive(value(args, ++i, arg), arg, 1024);
                case "--reps" -> reps = positive(value(args, ++i, arg), arg, 1000);
                case "--forks" -> forks = positive(value(args, ++i, arg), arg, 100);
                case "--param" -> param(value(args, ++i, arg), params);
                case "--out" -> outDir = Path.of(value(args, ++i, arg));
                case "--native-dir" -> nativeDir = Path.of(value(args, ++i, arg));
                case "--list" -> list = true;
                case "-h", "--help" -> help = true;
                default -> throw new UsageException("unknown argument '" + arg + "'");
            }
        }
        checkParams(workloads, params, preset);
        checkSomethingRuns(workloads, peers);
        int defaultReps = preset == ParamSpec.Preset.FULL ? 5 : preset == ParamSpec.Preset.QUICK ? 3 : 1;
        int defaultForks = preset == ParamSpec.Preset.FULL ? 3 : 1;
        return new RunnerArgs(preset, workloads, peers, threads, reps == null ? defaultReps : reps,
                forks == null ? defaultForks : forks, Map.copyOf(params), outDir, nativeDir, help, list);
    }

    /** Threads for {@code workload}: {@code --threads}, or the workload's default. */
    public int threadsFor(Workload workload) {
        return threads > 0 ? threads : workload.defaultThreads();
    }

    private static String value(String[] args, int i, String option) throws UsageException {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new UsageException(option + " needs a value");
        }
        return args[i];
    }

    private static int positive(String v, String option, int max) throws UsageException {
        try {
            int n = Integer.parseInt(v);
            if (n >= 1 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(option + " needs a whole number from 1 to " + max + ", not '" + v + "'");
    }

    private static List<Workload> workloads(String v) throws UsageException {
        List<Workload> chosen = new ArrayList<>();
        for (String name : names(v, "--workload")) {
            Workload w = Workloads.byName(name).orElse(null);
            if (w == null) {
                throw new UsageException("unknown workload '" + name + "'; known: "
                        + Workloads.all().stream().map(Workload::name).collect(Collectors.joining(", ")));
            }
            if (!chosen.contains(w)) {
                chosen.add(w);
            }
        }
        return chosen;
    }

    private static List<String> peers(String v) throws UsageException {
        List<String> chosen = new ArrayList<>();
        for (String name : names(v, "--peer")) {
            if (!knownPeers().contains(name)) {
                throw new UsageException("unknown peer '" + name + "'; known: " + String.join(", ", knownPeers()));
            }
            if (!chosen.contains(name)) {
                chosen.add(name);
            }
        }
        return chosen;
    }

    private static List<String> names(String v, String option) throws UsageException {
        List<String> names = new ArrayList<>();
        // -1: keep trailing empty names, so "pairs," and "," are reported instead of running fewer (or no) cells
        for (String name : v.split(",", -1)) {
            if (name.isBlank()) {
                throw new UsageException(option + " has an empty name in '" + v + "'");
            }
            names.add(name.trim());
        }
        return names;
    }

    private static void param(String v, Map<String, Long> params) throws UsageException {
        int eq = v.indexOf('=');
        if (eq <= 0 || eq == v.length() - 1) {
            throw new UsageException("--param needs NAME=VALUE, not '" + v + "'");
        }
        String name = v.substring(0, eq);
        try {
            params.put(name, Long.parseLong(v.substring(eq + 1).replace("_", "")));
        } catch (NumberFormatException e) {
            throw new UsageException("--param " + name + " needs a whole number, not '" + v.substring(eq + 1) + "'");
        }
    }

    /**
     * At least one chosen (workload, peer) must be a cell: the C floors run only some workloads, so
     * {@code --workload larson --peer c-glibc} would otherwise run nothing, print no table and exit 0.
     */
    private static void checkSomethingRuns(List<Workload> workloads, List<String> peers) throws UsageException {
        boolean jvmPeer = peers.stream().anyMatch(p -> !NativeFloor.isNativePeer(p));
        boolean floorWorkload = workloads.stream().anyMatch(w -> NativeFloor.WORKLOADS.contains(w.name()));
        if (!jvmPeer && !floorWorkload) {
            throw new UsageException("nothing to run: the C floors (" + String.join(", ", peers) + ") run only "
                    + String.join(", ", NativeFloor.WORKLOADS) + "; add a JVM peer or one of those workloads");
        }
    }

    /** Every override must belong to at least one chosen workload and be in range for each that has it. */
    private static void checkParams(List<Workload> workloads, Map<String, Long> params, ParamSpec.Preset preset)
            throws UsageException {
        for (String name : params.keySet()) {
            if (workloads.stream().noneMatch(w -> w.params().stream().anyMatch(p -> p.name().equals(name)))) {
                throw new UsageException("no chosen workload has a parameter '" + name + "' (see --list)");
            }
        }
        for (Workload w : workloads) {
            try {
                Params.of(w.name(), w.params(), preset, params, false);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
    }
}
