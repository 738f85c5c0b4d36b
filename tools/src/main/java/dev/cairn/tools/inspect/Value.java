package dev.cairn.tools.inspect;

import java.util.List;

/**
 * Typed report values: each renders readably in text and as a plain JSON value for scripts.
 */
public sealed interface Value {

    /** Text form. */
    String text();

    /** JSON form (already JSON syntax). */
    String json();

    /** An address: {@code 0x...} in both forms (JSON numbers cannot hold every 64-bit address exactly). */
    record Hex(long value) implements Value {
        public String text() {
            return "0x" + Long.toHexString(value);
        }

        public String json() {
            return "\"" + text() + "\"";
        }
    }

    /** A byte count: "12.5 MiB" in text, the exact number in JSON. */
    record Bytes(long value) implements Value {
        public String text() {
            String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
            double v = value;
            int unit = 0;
            while (Math.abs(v) >= 1024 && unit < units.length - 1) {
                v /= 1024;
                unit++;
            }
            return unit == 0 ? value + " B" : String.format(java.util.Locale.ROOT, "%.1f %s", v, units[unit]);
        }

        public String json() {
            return Long.toString(value);
        }
    }

    /** A ratio in [0, 1]: a percentage in text. */
    record Ratio(double value) implements Value {
        public String text() {
            return String.format(java.util.Locale.ROOT, "%.1f%%", value * 100);
        }

        public String json() {
            return Double.isFinite(value) ? String.format(java.util.Locale.ROOT, "%.4f", value) : "null";
        }
    }

    /** A total scaled up from samples: "~N" in text (the JSON field names say "estimated"). */
    record Estimate(long value, boolean bytes) implements Value {
        public String text() {
            return "~" + (bytes ? new Bytes(value).text() : Long.toString(value));
        }

        public String json() {
            return Long.toString(value);
        }
    }

    /** A stack: its innermost frames in text, every frame in JSON. */
    record Frames(List<String> frames, int textFrames) implements Value {
        public String text() {
            if (frames.isEmpty()) {
                return "(no frames)";
            }
            return String.join(" <- ", frames.subList(0, Math.min(textFrames, frames.size())))
                    + (frames.size() > textFrames ? " ..." : "");
        }

        public String json() {
            StringBuilder out = new StringBuilder("[");
            for (int i = 0; i < frames.size(); i++) {
                out.append(i == 0 ? "" : ",").append(JsonRenderer.quote(frames.get(i)));
            }
            return out.append(']').toString();
        }
    }
}
