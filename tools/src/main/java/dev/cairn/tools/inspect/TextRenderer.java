package dev.cairn.tools.inspect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Renders a {@link Report} for people: "key: value" lines, nested reports indented, tables in aligned columns. */
final class TextRenderer {

    private TextRenderer() {
    }

    static String render(Report report) {
        StringBuilder out = new StringBuilder(4096);
        render(out, report, "");
        return out.toString();
    }

    private static void render(StringBuilder out, Report report, String indent) {
        int width = 0;
        for (Map.Entry<String, Object> e : report.entries().entrySet()) {
            if (!(e.getValue() instanceof Report) && !(e.getValue() instanceof List<?>)) {
                width = Math.max(width, e.getKey().length());
            }
        }
        for (Map.Entry<String, Object> e : report.entries().entrySet()) {
            Object value = e.getValue();
            if (value instanceof Report nested) {
                out.append(indent).append(e.getKey()).append(":\n");
                render(out, nested, indent + "  ");
            } else if (value instanceof List<?> rows) {
                out.append(indent).append(e.getKey()).append(rows.isEmpty() ? ": (none)\n" : ":\n");
                table(out, rows, indent + "  ");
            } else {
                out.append(indent).append(e.getKey()).append(": ")
                        .append(" ".repeat(width - e.getKey().length())).append(text(value)).append('\n');
            }
        }
    }

    private static void table(StringBuilder out, List<?> rows, String indent) {
        if (rows.isEmpty()) {
            return;
        }
        if (!(rows.getFirst() instanceof Report first)) {
            for (Object row : rows) {
                out.append(indent).append(text(row)).append('\n');
            }
            return;
        }
        List<String> columns = new ArrayList<>(first.entries().keySet());
        int[] widths = new int[columns.size()];
        List<String[]> cells = new ArrayList<>();
        cells.add(columns.toArray(String[]::new));
        for (Object row : rows) {
            Report r = (Report) row;
            String[] line = new String[columns.size()];
            for (int c = 0; c < columns.size(); c++) {
                line[c] = text(r.get(columns.get(c)));
            }
            cells.add(line);
        }
        for (String[] line : cells) {
            for (int c = 0; c < line.length; c++) {
                widths[c] = Math.max(widths[c], line[c].length());
            }
        }
        for (String[] line : cells) {
            StringBuilder row = new StringBuilder(indent);
            for (int c = 0; c < line.length; c++) {
                boolean last = c == line.length - 1;
                row.append(last ? line[c] : pad(line[c], widths[c])).append(last ? "" : "  ");
            }
            out.append(row.toString().stripTrailing()).append('\n');
        }
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(width - s.length());
    }

    static String text(Object value) {
        return switch (value) {
            case null -> "-";
            case Value v -> printable(v.text());
            case Double d -> String.format(java.util.Locale.ROOT, "%.3f", d);
            default -> printable(value.toString());
        };
    }

    /**
     * {@code s} with control characters escaped ({@code \n}, {@code \u001b}): thread and type names come from the
     * dump and may hold any, which printed raw would split a table row or drive the terminal (escape sequences).
     */
    static String printable(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
            if (control && out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (out != null) {
                out.append(!control ? String.valueOf(c) : c == '\n' ? "\\n" : c == '\t' ? "\\t"
                        : String.format("\\u%04x", (int) c));
            }
        }
        return out == null ? s : out.toString();
    }
}
