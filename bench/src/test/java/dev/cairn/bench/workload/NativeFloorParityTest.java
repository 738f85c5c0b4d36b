package dev.cairn.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.Peers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The C floor does the same work as the Java workloads: built here with gcc (skipped without it), it must request
 * exactly as many blocks and bytes as PairsWorkload, BatchWorkload, GlibcSimpleWorkload and AllocTestWorkload do
 * with the same parameters.
 */
class NativeFloorParityTest {

    @ParameterizedTest
    @CsvSource({"pairs, 2, ops=5000", "batch, 2, rounds=3", "glibc-simple, 2, iterations=2000",
            "alloc-test, 2, ops=5000", "alloc-test, 3, ops=7000"})
    void requestsTheSameBlocksAndBytesAsJava(String name, int threads, String override, @TempDir Path dir)
            throws Exception {
        Path binary = dir.resolve("floor");
        assumeTrue(run(dir, "gcc", "-O2", "-o", binary.toString(), Path.of("native/floor.c").toAbsolutePath()
                .toString(), "-lpthread").exitCode == 0, "gcc not available");
        Workload workload = Workloads.byName(name).orElseThrow();
        String[] kv = override.split("=");
        Params params = Params.of(name, workload.params(), ParamSpec.Preset.SMOKE,
                Map.of(kv[0], Long.parseLong(kv[1])), true);
        WorkloadResult java;
        try (Peer peer = Peers.byName("glibc").orElseThrow().create()) {
            java = workload.run(peer, threads, params);
        }
        String[] command = new String[4 + workload.params().size()];
        command[0] = binary.toString();
        command[1] = name;
        command[2] = Integer.toString(threads);
        command[3] = "1"; // one measured repetition after the unmeasured one: twice the work of one Java run
        for (int i = 0; i < workload.params().size(); i++) {
            String p = workload.params().get(i).name();
            command[4 + i] = p + "=" + params.get(p);
        }
        Result c = run(dir, command);
        assertEquals(0, c.exitCode, c.output);
        assertEquals(2 * java.mallocs(), field(c.output, "mallocs"), c.output);
        assertEquals(2 * java.bytes(), field(c.output, "bytes"), c.output);
        assertEquals(2 * java.checksum(), field(c.output, "checksum"), c.output);
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(Path dir, String... command) throws IOException, InterruptedException {
        Path out = dir.resolve("out.txt");
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Result(-1, "timed out");
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    private static long field(String output, String name) {
        for (String token : output.trim().split("\\s+")) {
            if (token.startsWith(name + "=")) {
                return Long.parseLong(token.substring(name.length() + 1));
            }
        }
        throw new AssertionError("no " + name + " in " + output);
    }
}
