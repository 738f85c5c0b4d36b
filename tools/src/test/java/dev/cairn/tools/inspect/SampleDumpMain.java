package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.DumpFixtures;
import java.nio.file.Path;

/** Writes the tests' standard dump (with contents) to the path given, for trying the tool by hand. */
public final class SampleDumpMain {

    private SampleDumpMain() {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args.length > 0 ? args[0] : "sample.cdump").toAbsolutePath();
        DumpFixtures.standardDump(path.getParent(), path.getFileName().toString(), true);
        System.out.println(path);
    }
}
