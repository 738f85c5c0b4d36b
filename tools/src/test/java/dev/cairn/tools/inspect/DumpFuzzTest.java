package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.tools.heapdump.DumpBytes;
import dev.cairn.tools.heapdump.DumpFixtures;
import dev.cairn.tools.heapdump.ObjectFixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of mutated dumps through the whole tool, in-process (an allocator's dump, and a runtime's whose
 * mutations all land in its OBJECTS section). Every run must end (a time bound per run), never
 * throw out of the tool or run out of memory, and answer 0 (the mutation kept a readable dump), 1 (validate found
 * what the mutation broke) or 2 with one line naming the file and an offset. Half the mutants get their checksums
 * recomputed, so the parser's and the commands' own bounds are what is tested, not just the checksums. The seed is
 * printed; rerun one with {@code -Dcairn.fuzz.seed=N}, run longer with {@code -Dcairn.fuzz.mutants=N}.
 */
class DumpFuzzTest {

    private static final int MUTANTS = Integer.getInteger("cairn.fuzz.mutants", 3000);
    private static final String[][] COMMANDS = {{"summary"}, {"bins"}, {"segments"}, {"threads"}, {"validate"},
        {"sites"}, {"blocks", "--bin", "2", "--contents"}, {"html", "-o", "/dev/null"}};
    private static final String[][] OBJECT_COMMANDS = {{"objects"}, {"objects", "--type", "int"}, {"validate"},
        {"summary"}};

    @TempDir
    Path dir;

    @Test
    void mutatedDumpsNeverCrashHangOrOverAllocate() throws Exception {
        long seed = Long.getLong("cairn.fuzz.seed", System.nanoTime());
        System.out.println("DumpFuzzTest seed " + seed + " (rerun with -Dcairn.fuzz.seed=" + seed + ")");
        byte[] good = Files.readAllBytes(DumpFixtures.smallDump(dir, "seed.cdump"));
        // Half the mutations land before the contents section: the structure is what the parser must survive.
        int structure = DumpBytes.sectionBody(good, 9) - 16;
        assertTrue(structure > 0);
        run(good, seed, MUTANTS, 0, structure, COMMANDS);
    }

    /** The same on a runtime's dump, every mutation inside its OBJECTS section (frame included). */
    @Test
    void mutatedObjectSectionsNeverCrashHangOrOverAllocate() throws Exception {
        long seed = Long.getLong("cairn.fuzz.seed", System.nanoTime());
        System.out.println("DumpFuzzTest objects seed " + seed + " (rerun with -Dcairn.fuzz.seed=" + seed + ")");
        Path seedDump = dir.resolve("objects-seed.cdump");
        ObjectFixtures.twoThreads(seedDump);
        byte[] good = Files.readAllBytes(seedDump);
        int frame = DumpBytes.sectionBody(good, 0x100) - 16;
        int end = frame + 16 + (int) ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(frame + 8);
        run(good, seed, MUTANTS / 2, frame, end, OBJECT_COMMANDS);
    }

    /**
     * Deterministic where the random mutants are thin: every 32-bit word of the segment and heap tables (counts,
     * kinds, shifts, page counts, first pages, range counts, ids) set to each extreme in turn, checksums fixed, through
     * the commands that walk segments page by page ({@code html}, {@code segments}, {@code validate}).
     */
    @Test
    void everyWordOfTheSegmentAndHeapTablesAtItsExtremes() throws Exception {
        byte[] good = Files.readAllBytes(DumpFixtures.smallDump(dir, "tables.cdump"));
        Path path = dir.resolve("extreme.cdump");
        ByteBuffer in = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN);
        int[] codes = new int[3];
        for (int kind : new int[] {2, 4}) {
            int body = DumpBytes.sectionBody(good, kind);
            int end = body + (int) in.getLong(body - 8);
            for (int at = body; at + 4 <= end; at += 4) {
                for (int value : new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0}) {
                    byte[] mutant = good.clone();
                    ByteBuffer.wrap(mutant).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
                    DumpBytes.fixChecksums(mutant);
                    Files.write(path, mutant);
                    for (String command : new String[] {"html", "segments", "validate"}) {
                        String where = "section " + kind + ", word at " + at + " := " + value + ", " + command + ": ";
                        long start = System.nanoTime();
                        Cli cli = Cli.run(path.toString(), command, "-o", "/dev/null");
                        long millis = (System.nanoTime() - start) / 1_000_000;
                        assertTrue(millis < 2_000, where + "took " + millis + " ms");
                        assertTrue(cli.code() >= 0 && cli.code() <= 2, where + cli);
                        if (cli.code() == 2) {
                            assertEquals(1, cli.err().split("\n").length, where + cli);
                        }
                        codes[cli.code()]++;
                    }
                }
            }
        }
        System.out.println("DumpFuzzTest table words, exit codes 0/1/2: " + Arrays.toString(codes));
    }

    /**
     * {@code mutants} runs of the tool on mutants of {@code good}: half mutated in [{@code from}, {@code structure}),
     * half in [{@code from}, end of file).
     */
    private void run(byte[] good, long seed, int mutants, int from, int structure, String[][] commands)
            throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        Path path = dir.resolve("mutant.cdump");
        int[] codes = new int[3];
        for (int n = 0; n < mutants; n++) {
            byte[] mutant = mutate(good, random, from, random.nextBoolean() ? structure : good.length);
            boolean fixed = random.nextBoolean();
            if (fixed) {
                DumpBytes.fixChecksums(mutant);
            }
            Files.write(path, mutant);
            String[] command = commands[random.nextInt(commands.length)];
            String[] args = new String[command.length + 1];
            args[0] = path.toString();
            System.arraycopy(command, 0, args, 1, command.length);
            long start = System.nanoTime();
            Cli cli = Cli.run(args);
            long millis = (System.nanoTime() - start) / 1_000_000;
            String where = "seed " + seed + ", mutant " + n + (fixed ? " (checksums fixed)" : "") + ", "
                    + String.join(" ", command) + ": ";
            assertTrue(millis < 5_000, where + "took " + millis + " ms");
            assertTrue(cli.code() >= 0 && cli.code() <= 2, where + cli);
            if (cli.code() == 2) {
                assertEquals(1, cli.err().split("\n").length, where + cli);
                assertTrue(cli.err().startsWith("cairn-inspect: " + path + ": at offset "), where + cli);
            }
            if (!fixed && !Arrays.equals(mutant, good)) {
                assertEquals(2, cli.code(), where + "a changed byte must fail a checksum or a bound: " + cli);
            }
            codes[cli.code()]++;
        }
        System.out.println("DumpFuzzTest exit codes 0/1/2: " + Arrays.toString(codes));
        assertTrue(codes[2] > mutants / 2, "most mutants are refused");
    }

    /** A mutation at a position in [{@code from}, {@code within}). */
    private static byte[] mutate(byte[] good, SplittableRandom random, int from, int within) {
        byte[] bytes = good.clone();
        switch (random.nextInt(6)) {
            case 0 -> { // flip a few bits
                for (int i = random.nextInt(1, 4); i > 0; i--) {
                    bytes[random.nextInt(from, within)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> bytes[random.nextInt(from, within)] = (byte) random.nextInt(256);
            case 2 -> bytes = Arrays.copyOf(bytes, random.nextInt(from, within)); // truncate
            case 3 -> { // an extreme value in a 32- or 64-bit field, most likely a count, length or index
                int at = Math.max(from, random.nextInt(from, within - 8) & ~3);
                long value = switch (random.nextInt(4)) {
                    case 0 -> -1L;
                    case 1 -> Integer.MAX_VALUE;
                    case 2 -> 0;
                    default -> random.nextLong();
                };
                for (int i = 0; i < (random.nextBoolean() ? 4 : 8); i++) {
                    bytes[at + i] = (byte) (value >>> (8 * i));
                }
            }
            case 4 -> { // cut a slice out
                int cut = random.nextInt(from, within);
                int to = Math.min(bytes.length, cut + random.nextInt(1, 64));
                byte[] out = new byte[bytes.length - (to - cut)];
                System.arraycopy(bytes, 0, out, 0, cut);
                System.arraycopy(bytes, to, out, cut, bytes.length - to);
                bytes = out;
            }
            default -> { // duplicate a slice
                int copy = random.nextInt(from, within);
                int length = Math.min(bytes.length - copy, random.nextInt(1, 64));
                byte[] out = new byte[bytes.length + length];
                System.arraycopy(bytes, 0, out, 0, copy + length);
                System.arraycopy(bytes, copy, out, copy + length, bytes.length - copy);
                bytes = out;
            }
        }
        return bytes;
    }
}
