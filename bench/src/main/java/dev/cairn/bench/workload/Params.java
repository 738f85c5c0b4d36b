package dev.cairn.bench.workload;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** A workload's parameter values: a preset's, with command-line overrides checked against the specs. */
public final class Params {
    private final Map<String, Long> values;

    private Params(Map<String, Long> values) {
        this.values = values;
    }

    /**
     * The preset's values with {@code overrides} applied. Overrides for keys this workload does not have are
     * ignored when {@code strict} is false (one {@code --param} may serve several workloads).
     *
     * @throws IllegalArgumentException for an unknown key (strict), a value out of range, naming both, or a
     *     {@code maxX} below its {@code minX} (maxSize below minSize, for one)
     */
    public static Params of(String workload, List<ParamSpec> specs, ParamSpec.Preset preset,
            Map<String, Long> overrides, boolean strict) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (ParamSpec spec : specs) {
            values.put(spec.name(), spec.value(preset));
        }
        for (Map.Entry<String, Long> override : overrides.entrySet()) {
            ParamSpec spec = specs.stream().filter(s -> s.name().equals(override.getKey())).findFirst().orElse(null);
            if (spec == null) {
                if (strict) {
                    throw new IllegalArgumentException("workload " + workload + " has no parameter '"
                            + override.getKey() + "'; it has: " + names(specs));
                }
                continue;
            }
            long v = override.getValue();
            if (v < spec.min() || v > spec.max()) {
                throw new IllegalArgumentException("workload " + workload + ": " + spec.name() + "=" + v
                        + " is outside [" + spec.min() + ", " + spec.max() + "]");
            }
            values.put(spec.name(), v);
        }
        // Checked here, not only in the workload, so that scripts/bench rejects --param minSize=2000 for batch
        // (maxSize 1024) before running, instead of every cell failing in its child JVM. Every minX/maxX pair.
        for (Map.Entry<String, Long> entry : values.entrySet()) {
            String name = entry.getKey();
            Long max = name.startsWith("min") ? values.get("max" + name.substring(3)) : null;
            if (max != null && max < entry.getValue()) {
                throw new IllegalArgumentException("workload " + workload + ": max" + name.substring(3) + " " + max
                        + " is below " + name + " " + entry.getValue());
            }
        }
        return new Params(values);
    }

    public static String names(List<ParamSpec> specs) {
        return specs.stream().map(ParamSpec::name).collect(Collectors.joining(", "));
    }

    public long get(String name) {
        Long v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return v;
    }

    public int getInt(String name) {
        return Math.toIntExact(get(name));
    }

    /** The values as {@code name=value} pairs in spec order. */
    public Map<String, Long> asMap() {
        return Map.copyOf(values);
    }

    @Override
    public String toString() {
        return values.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
    }
}
