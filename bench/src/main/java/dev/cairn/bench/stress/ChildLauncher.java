package dev.cairn.bench.stress;

import dev.cairn.bench.peer.PeerSpec;
import dev.cairn.bench.workload.ParamSpec;
import dev.cairn.bench.workload.Params;
import dev.cairn.bench.workload.Workload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts one process per (workload, peer, fork): a JVM running {@link ChildMain} on this JVM's class path, or a
 * native floor binary, and reads its {@link ChildReport}. A separate process per pair keeps each peer's memory
 * figure its own and keeps JIT profiles from mixing peers (each child's call sites see one peer only).
 */
final class ChildLauncher {
    /** Flags every child JVM gets; peers add their own ({@link PeerSpec#jvmFlags()}). */
    static final List<String> BASE_FLAGS = List.of("--enable-native-access=ALL-UNNAMED");

    private final Path java;
    private final String classPath;
    private final Duration timeout;

    ChildLauncher(Path java, String classPath, Duration timeout) {
        this.java = java;
        this.classPath = classPath;
        this.timeout = timeout;
    }

    /** This JVM's {@code java} and class path: the children run the same build. */
    static ChildLauncher forThisJvm(Duration timeout) {
        return new ChildLauncher(Path.of(System.getProperty("java.home"), "bin", "java"),
                System.getProperty("java.class.path"), timeout);
    }

    ChildReport runJvm(Workload workload, PeerSpec peer, int threads, ParamSpec.Preset preset, int reps,
            Map<String, Long> overrides) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.addAll(BASE_FLAGS);
        command.addAll(peer.jvmFlags());
        command.addAll(List.of("-cp", classPath, ChildMain.class.getName(), workload.name(), peer.name(),
                Integer.toString(threads), preset.name(), Integer.toString(reps)));
        overrides.forEach((k, v) -> command.add(k + "=" + v));
        return run(command, peer.environment());
    }

    ChildReport runNative(Path binary, Workload workload, int threads, Params params, int reps)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(binary.toString(), workload.name(), Integer.toString(threads),
                Integer.toString(reps)));
        workload.params().forEach(p -> command.add(p.name() + "=" + params.get(p.name())));
        return run(command, Map.of());
    }

    private ChildReport run(List<String> command, Map<String, String> environment)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("cairn-bench-", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IOException("timed out after " + timeout.toSeconds() + " s");
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IOException("exit status " + process.exitValue() + ": " + lastLines(output));
            }
            try {
                return ChildReport.find(output);
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage() + ": " + lastLines(output), e);
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** The error a failed child printed, shortened to fit one table row: its first exception line or its end. */
    static String lastLines(String output) {
        String[] lines = output.strip().split("\n");
        for (String line : lines) {
            if (line.contains("Exception") || line.contains("Error:")) {
                return line.strip();
            }
        }
        return lines.length == 0 ? "(no output)" : lines[lines.length - 1].strip();
    }
}
