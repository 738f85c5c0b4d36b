package dev.cairn.bench.workload;

/**
 * One workload parameter: an integer with a value per preset and a valid range.
 *
 * @param name the key on the command line ({@code --param name=value})
 * @param description one line for {@code --help}
 * @param smoke the CI preset (every workload with every peer in seconds)
 * @param quick the default preset
 * @param full the {@code --full} preset
 * @param min the smallest valid value
 * @param max the largest valid value
 */
public record ParamSpec(String name, String description, long smoke, long quick, long full, long min, long max) {

    public ParamSpec {
        for (long v : new long[] {smoke, quick, full}) {
            if (v < min || v > max) {
                throw new IllegalArgumentException(name + ": preset " + v + " outside [" + min + ", " + max + "]");
            }
        }
    }

    public long value(Preset preset) {
        return switch (preset) {
            case SMOKE -> smoke;
            case QUICK -> quick;
            case FULL -> full;
        };
    }

    /** The three sizes of run. */
    public enum Preset {
        SMOKE, QUICK, FULL
    }
}
