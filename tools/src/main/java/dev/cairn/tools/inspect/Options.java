package dev.cairn.tools.inspect;

import java.nio.file.Path;

/**
 * The command line, parsed.
 *
 * @param dump the dump to read
 * @param command the command (summary when none is given)
 * @param other the second dump of {@code diff}
 * @param output where {@code html} writes (default: the dump's name + ".html")
 * @param bin the size class {@code blocks} lists (-1: huge blocks); null when not given
 * @param type the type name {@code objects} lists the objects of; null for the table of types
 * @param top rows shown in ranked tables
 * @param limit rows {@code blocks} prints
 */
record Options(Path dump, String command, Path other, Path output, Integer bin, String type, boolean live,
        boolean contents, boolean json, boolean debug, int top, int limit) {
}
