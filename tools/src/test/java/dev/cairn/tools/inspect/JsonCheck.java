package dev.cairn.tools.inspect;

/** Test helper: a strict little JSON syntax check (one object, nothing after it) and a field lookup. */
final class JsonCheck {

    private final String s;
    private int i;

    private JsonCheck(String s) {
        this.s = s;
    }

    static boolean isObject(String text) {
        JsonCheck p = new JsonCheck(text.strip());
        try {
            if (p.s.isEmpty() || p.s.charAt(0) != '{') {
                return false;
            }
            p.value();
            return p.i == p.s.length();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The first {@code "key":number} in {@code json}. */
    static long firstLong(String json, String key) {
        int at = json.indexOf("\"" + key + "\":");
        if (at < 0) {
            throw new AssertionError("no " + key + " in " + json);
        }
        int from = at + key.length() + 3;
        int to = from;
        while (to < json.length() && (Character.isDigit(json.charAt(to)) || json.charAt(to) == '-')) {
            to++;
        }
        return Long.parseLong(json.substring(from, to));
    }

    private void value() {
        char c = s.charAt(i);
        switch (c) {
            case '{' -> members('}', true);
            case '[' -> members(']', false);
            case '"' -> string();
            default -> {
                int from = i;
                while (i < s.length() && "-+.eE0123456789truefalsn".indexOf(s.charAt(i)) >= 0) {
                    i++;
                }
                String word = s.substring(from, i);
                if (!(word.equals("true") || word.equals("false") || word.equals("null")
                        || word.matches("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?"))) {
                    throw new IllegalStateException("bad value " + word);
                }
            }
        }
    }

    private void members(char close, boolean object) {
        i++;
        if (s.charAt(i) == close) {
            i++;
            return;
        }
        while (true) {
            if (object) {
                string();
                expect(':');
            }
            value();
            if (s.charAt(i) == close) {
                i++;
                return;
            }
            expect(',');
        }
    }

    private void string() {
        expect('"');
        while (s.charAt(i) != '"') {
            if (s.charAt(i) < 0x20) {
                throw new IllegalStateException("control character in string");
            }
            i += s.charAt(i) == '\\' ? 2 : 1;
        }
        i++;
    }

    private void expect(char c) {
        if (s.charAt(i++) != c) {
            throw new IllegalStateException("expected " + c + " at " + (i - 1));
        }
    }
}
