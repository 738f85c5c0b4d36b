package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.DumpFormatException;
import dev.cairn.tools.heapdump.HeapDump;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code cairn-inspect DUMP [command] [options]}: the heap-dump debug tool.
 *
 * <p>Exit codes: 0 done; 1 {@code validate} found violations; 2 usage error or a dump that cannot be read (one
 * line naming the file, the offset and the problem, or saying the heap was too small for it; {@code --debug} adds
 * the stack trace); 70 a bug in this tool
 * (always with its stack trace). {@link #run} is the whole tool without {@code System.exit}, for tests.
 */
public final class InspectCli {

    static final int OK = 0;
    static final int VIOLATIONS = 1;
    static final int BAD_INPUT = 2;
    static final int INTERNAL_ERROR = 70;

    private static final Set<String> COMMANDS = Set.of("summary", "bins", "segments", "threads", "validate", "sites",
            "objects", "diff", "blocks", "html");

    private static final String USAGE = """
            usage: cairn-inspect DUMP [command] [options]
            commands:
              summary            totals, fragmentation (committed but unused, and why), top size classes (default)
              bins               per size class: pages, blocks in use and free, fill, bytes
              segments           per segment: owner, pages, committed/purged memory, fill, abandoned
              threads            per heap and its thread: segments, pages, bytes in use
              validate           heap (and object) invariants, checked from the dump (exit 1 on violations)
              sites              live bytes per sampled allocation site, top first (estimates)
              objects            runtime objects per type (an interpreter's dump): count, bytes, immortal,
                                 refcounts, top first; --type NAME lists that type's objects, --limit N
              diff OTHER         growth from DUMP to OTHER per size class, segment, site and object type
              blocks --bin N     blocks of size class N (-1: huge); --live, --contents, --limit N
              html [-o FILE]     one self-contained HTML page (default: DUMP.html), with objects per type
                                 when the runtime took the dump
            options: --json (every command), --top N (ranked tables, default 10), --debug (stack traces)
            """;

    private InspectCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the tool; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("cairn-inspect: " + e.getMessage());
            err.print(USAGE);
            return BAD_INPUT;
        }
        if (options == null) {
            out.print(USAGE);
            return OK;
        }
        Path current = options.dump();
        try (HeapDump dump = HeapDump.open(options.dump())) {
            if (options.command().equals("diff")) {
                current = options.other();
                try (HeapDump other = HeapDump.open(options.other())) {
                    return print(DiffCommand.run(dump, other, options), options, out);
                }
            }
            if (options.command().equals("blocks") && options.bin() >= dump.header().binCount()) {
                // an empty list would read as "no blocks of that size": the size class does not exist
                err.println("cairn-inspect: --bin " + options.bin() + ": " + current + " has size classes 0.."
                        + (dump.header().binCount() - 1) + " (and -1 for huge blocks)");
                return BAD_INPUT;
            }
            return execute(dump, options, out);
        } catch (CannotWrite e) {
            err.println("cairn-inspect: " + e.target + ": cannot write: " + e.getCause());
            if (options.debug()) {
                e.printStackTrace(err);
            }
            return BAD_INPUT;
        } catch (DumpFormatException e) {
            err.println("cairn-inspect: " + current + ": at offset " + e.offset() + ": " + e.problem());
            if (options.debug()) {
                e.printStackTrace(err);
            }
            return BAD_INPUT;
        } catch (IOException e) {
            err.println("cairn-inspect: " + current + ": cannot read: " + e);
            if (options.debug()) {
                e.printStackTrace(err);
            }
            return BAD_INPUT;
        } catch (OutOfMemoryError e) {
            // what was parsed is unreachable by now, so there is room to say so; a file's records can cost several
            // times their size on the Java heap (strings, records)
            err.println("cairn-inspect: " + current + ": not enough memory to read it (" + size(current)
                    + " bytes; this JVM has " + java.lang.Runtime.getRuntime().maxMemory()
                    + " bytes of heap): run java with a larger -Xmx");
            if (options.debug()) {
                e.printStackTrace(err);
            }
            return BAD_INPUT;
        } catch (RuntimeException e) {
            err.println("cairn-inspect: " + current + ": internal error (a bug in cairn-inspect): " + e);
            e.printStackTrace(err);
            return INTERNAL_ERROR;
        }
    }

    private static String size(Path path) {
        try {
            return Long.toString(Files.size(path));
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static int execute(HeapDump dump, Options options, PrintStream out) throws IOException {
        return switch (options.command()) {
            case "summary" -> print(SummaryCommand.run(dump, options), options, out);
            case "bins" -> print(BinsCommand.run(dump, options), options, out);
            case "segments" -> print(SegmentsCommand.run(dump, options), options, out);
            case "threads" -> print(ThreadsCommand.run(dump, options), options, out);
            case "sites" -> print(SitesCommand.run(dump, options), options, out);
            case "objects" -> print(ObjectsCommand.run(dump, options), options, out);
            case "blocks" -> print(BlocksCommand.run(dump, options), options, out);
            case "validate" -> {
                Report report = ValidateCommand.run(dump, options);
                print(report, options, out);
                yield ((Integer) report.get("violationCount")) == 0 ? OK : VIOLATIONS;
            }
            case "html" -> {
                Path target = options.output() != null ? options.output()
                        : Path.of(options.dump() + ".html");
                if (Files.exists(target) && Files.isSameFile(target, options.dump())) {
                    throw new CannotWrite(target, new IOException("it is the dump itself, which would be lost"));
                }
                String page = HtmlReport.render(dump, options);
                try {
                    Files.writeString(target, page, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new CannotWrite(target, e);
                }
                yield print(new Report().put("html", target.toString()), options, out);
            }
            default -> throw new IllegalStateException("unknown command " + options.command());
        };
    }

    /** The output file could not be written: the dump was read fine, so the error names the output. */
    private static final class CannotWrite extends IOException {
        private static final long serialVersionUID = 1L;
        final transient Path target;

        CannotWrite(Path target, IOException cause) {
            super(cause);
            this.target = target;
        }
    }

    private static int print(Report report, Options options, PrintStream out) {
        out.print(options.json() ? JsonRenderer.render(report) : TextRenderer.render(report));
        out.flush();
        return OK;
    }

    /** The options, or null for {@code --help}. */
    static Options parse(String[] args) {
        List<String> positional = new ArrayList<>();
        Path output = null;
        Integer bin = null;
        String type = null;
        boolean live = false;
        boolean contents = false;
        boolean json = false;
        boolean debug = false;
        int top = 10;
        int limit = 100;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help" -> {
                    return null;
                }
                case "--json" -> json = true;
                case "--debug" -> debug = true;
                case "--live" -> live = true;
                case "--contents" -> contents = true;
                case "-o", "--output" -> output = Path.of(value(args, ++i, arg));
                case "--bin" -> bin = number(value(args, ++i, arg), arg, -1);
                case "--type" -> type = value(args, ++i, arg);
                case "--top" -> top = number(value(args, ++i, arg), arg, 1);
                case "--limit" -> limit = number(value(args, ++i, arg), arg, 0);
                default -> {
                    if (arg.startsWith("-") && !arg.equals("-")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    }
                    positional.add(arg);
                }
            }
        }
        if (!positional.isEmpty() && COMMANDS.contains(positional.getFirst())
                && !Files.exists(Path.of(positional.getFirst())) && positional.size() >= 2) {
            positional.add(1, positional.removeFirst()); // "diff A B" and "bins DUMP" read as "A diff B"
        }
        if (positional.isEmpty()) {
            throw new IllegalArgumentException("no dump file given");
        }
        String command = positional.size() > 1 ? positional.get(1) : "summary";
        if (!COMMANDS.contains(command)) {
            throw new IllegalArgumentException("unknown command '" + command + "'");
        }
        int expected = command.equals("diff") ? 3 : 2;
        if (positional.size() > expected || (command.equals("diff") && positional.size() < 3)) {
            throw new IllegalArgumentException(command.equals("diff") ? "diff needs two dumps: DUMP diff OTHER"
                    : "unexpected argument '" + positional.get(expected) + "'");
        }
        if (command.equals("blocks") && bin == null) {
            throw new IllegalArgumentException("blocks needs --bin N (a size class, or -1 for huge blocks)");
        }
        return new Options(Path.of(positional.get(0)), command, expected == 3 ? Path.of(positional.get(2)) : null,
                output, bin, type, live, contents, json, debug, top, limit);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int number(String value, String option, int min) {
        try {
            int n = Integer.parseInt(value);
            if (n < min) {
                throw new IllegalArgumentException(option + " must be at least " + min + ": " + value);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a number: " + value);
        }
    }
}
