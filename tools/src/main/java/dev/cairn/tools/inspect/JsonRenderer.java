package dev.cairn.tools.inspect;

import java.util.List;
import java.util.Map;

/** Renders a {@link Report} as one JSON object (the {@code --json} output of every command). */
final class JsonRenderer {

    private JsonRenderer() {
    }

    static String render(Report report) {
        StringBuilder out = new StringBuilder(4096);
        value(out, report);
        return out.append('\n').toString();
    }

    private static void value(StringBuilder out, Object value) {
        switch (value) {
            case null -> out.append("null");
            case Report report -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, Object> e : report.entries().entrySet()) {
                    out.append(first ? "" : ",").append(quote(e.getKey())).append(':');
                    value(out, e.getValue());
                    first = false;
                }
                out.append('}');
            }
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    out.append(i == 0 ? "" : ",");
                    value(out, list.get(i));
                }
                out.append(']');
            }
            case Value v -> out.append(v.json());
            case Double d -> out.append(Double.isFinite(d) ? d.toString() : "null");
            case Number n -> out.append(n);
            case Boolean b -> out.append(b);
            default -> out.append(quote(value.toString()));
        }
    }

    static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&') { // also safe inside an HTML <script>
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
