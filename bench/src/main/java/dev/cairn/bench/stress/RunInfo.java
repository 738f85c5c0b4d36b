package dev.cairn.bench.stress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Where and how a run was made, for the reports: a number means little without its machine and command.
 *
 * @param started when the run started (UTC)
 * @param command the command line as given
 * @param preset smoke, quick or full
 * @param cpu the CPU model from {@code /proc/cpuinfo}
 * @param cpus processors available to the JVM
 * @param java the runtime's name and version
 */
public record RunInfo(Instant started, String command, String preset, String cpu, int cpus, String java) {

    static RunInfo here(Instant started, String command, String preset) {
        return new RunInfo(started, command, preset, cpuModel(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            return "unknown";
        }
        return "unknown";
    }
}
