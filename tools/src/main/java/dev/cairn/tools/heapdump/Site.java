package dev.cairn.tools.heapdump;

import java.util.List;

/** A sampled allocation site: the Java stack, innermost frame first. */
public record Site(int id, List<String> frames) {

    /** The stack as one string: equal stacks in two dumps are the same site (site ids differ between dumps). */
    public String key() {
        return String.join("\n", frames);
    }
}
