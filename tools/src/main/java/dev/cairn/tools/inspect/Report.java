package dev.cairn.tools.inspect;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a command found, as an ordered tree that both renderers walk: {@link TextRenderer} for people and
 * {@link JsonRenderer} for {@code --json}. Values are strings, numbers, booleans, the typed values of {@link Value}
 * (which render differently for people and for scripts), nested reports, and tables (lists of reports with the
 * same keys). Commands build a report and never print, so every command has {@code --json} for free.
 */
public final class Report {

    private final Map<String, Object> entries = new LinkedHashMap<>();

    public Report put(String key, Object value) {
        entries.put(key, value);
        return this;
    }

    /** A nested report under {@code key}. */
    public Report section(String key) {
        Report section = new Report();
        entries.put(key, section);
        return section;
    }

    /** A table under {@code key}; add rows to the returned list. */
    public List<Report> table(String key) {
        List<Report> rows = new ArrayList<>();
        entries.put(key, rows);
        return rows;
    }

    public Object get(String key) {
        return entries.get(key);
    }

    Map<String, Object> entries() {
        return entries;
    }
}
