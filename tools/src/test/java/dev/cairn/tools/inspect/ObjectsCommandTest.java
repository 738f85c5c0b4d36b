package dev.cairn.tools.inspect;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.runtime.Interpreter;
import dev.cairn.runtime.InterpreterConfig;
import dev.cairn.runtime.Lists;
import dev.cairn.runtime.Ref;
import dev.cairn.runtime.Runtime;
import dev.cairn.runtime.Strs;
import dev.cairn.runtime.ThreadState;
import dev.cairn.tools.heapdump.DumpBytes;
import dev.cairn.tools.heapdump.DumpFixtures;
import dev.cairn.tools.heapdump.ObjectFixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code objects} (text and JSON, with and without {@code --type}) and what {@code summary}, {@code diff} and
 * {@code validate} add for a runtime dump, on the two-thread fixture whose counts are worked out by hand
 * ({@link ObjectFixtures#EXPECTED}); an allocator's dump without objects still gets an answer from each.
 */
class ObjectsCommandTest {

    @TempDir
    static Path dir;
    static Path dump;
    static Path plain;
    static ObjectFixtures.Made made;

    @BeforeAll
    static void writeDumps() throws Exception {
        dump = dir.resolve("objects.cdump");
        made = ObjectFixtures.twoThreads(dump);
        plain = DumpFixtures.smallDump(dir, "plain.cdump");
    }

    /** The JSON object of the table row whose {@code key} is {@code value}. */
    private static String row(String json, String key, String value) {
        int at = json.indexOf("{\"" + key + "\":\"" + value + "\"");
        assertTrue(at >= 0, "no row " + value + " in " + json);
        return json.substring(at, json.indexOf('}', at) + 1);
    }

    @Test
    void objectsPerTypeMatchWhatTheThreadsMade() {
        Cli cli = Cli.run(dump.toString(), "objects", "--json");
        assertEquals(0, cli.code(), cli.toString());
        assertTrue(JsonCheck.isObject(cli.out()), cli.out());
        String json = cli.out();
        assertTrue(json.contains("\"present\":true"), json);
        assertEquals(made.interpreterId(), JsonCheck.firstLong(json, "interpreter"));
        assertEquals(155, JsonCheck.firstLong(json, "objects"), "65 + 66 + 1 + 5 + 17 + 1");
        assertEquals(0, JsonCheck.firstLong(json, "immortal"));
        assertEquals(125 + 66 + 1 + 5 + 17 + 18, JsonCheck.firstLong(json, "refs"));
        assertEquals(6, JsonCheck.firstLong(json, "types"));
        ObjectFixtures.EXPECTED.forEach((type, counts) -> {
            String row = row(json, "type", type);
            assertEquals(counts[0], JsonCheck.firstLong(row, "objects"), row);
            assertEquals(counts[1], JsonCheck.firstLong(row, "refs"), row);
            assertEquals(0, JsonCheck.firstLong(row, "immortal"), row);
        });
        assertTrue(row(json, "type", "Point").contains("\"kind\":\"instance\",\"heapType\":true"), json);
        List<Long> bytes = new ArrayList<>();
        for (int at = json.indexOf("\"bytes\":", json.indexOf("\"byType\"")); at >= 0;
                at = json.indexOf("\"bytes\":", at + 1)) {
            bytes.add(JsonCheck.firstLong(json.substring(at), "bytes"));
        }
        assertEquals(6, bytes.size());
        for (int i = 1; i < bytes.size(); i++) {
            assertTrue(bytes.get(i - 1) >= bytes.get(i), "most bytes first: " + bytes);
        }

        String text = Cli.run(dump.toString(), "objects").out();
        assertTrue(text.contains("objects:                 155"), text);
        String intLine = text.lines().filter(l -> l.trim().startsWith("int ")).findFirst().orElseThrow();
        assertTrue(intLine.matches("\\s*int\\s+int\\s+false\\s+65\\s+\\S+ \\S+\\s+\\S+%\\s+0\\s+125"), intLine);
        assertEquals(2, Cli.run(dump.toString(), "objects", "--top", "2", "--json").out().split("\"type\":").length
                - 1, "--top keeps the two largest types");
    }

    @Test
    void typeListsTheObjectsOfOneTypeWithTheirHeaders() {
        String json = Cli.run(dump.toString(), "objects", "--type", "Point", "--json", "--limit", "1000").out();
        assertTrue(JsonCheck.isObject(json), json);
        assertEquals(17, JsonCheck.firstLong(json, "matching"));
        assertEquals(17, JsonCheck.firstLong(json, "shown"));
        assertEquals(10, json.split("\"owner\":" + made.ownerA() + ",").length - 1, "A made 10");
        assertEquals(7, json.split("\"owner\":" + made.ownerB() + ",").length - 1, "B made 7");
        assertEquals(17, json.split("\"refcount\":1,\"local\":1,\"shared\":0,\"state\":\"owned\"").length - 1, json);
        assertEquals(17, json.split("\"tracked\":true").length - 1);

        String type = Cli.run(dump.toString(), "objects", "--type", "type", "--json").out();
        assertEquals(1, JsonCheck.firstLong(type, "matching"));
        assertTrue(type.contains("\"address\":\"0x" + Long.toHexString(made.pointType()) + "\""), type);
        assertTrue(type.contains("\"refcount\":18,\"local\":0,\"shared\":0,\"state\":\"merged\",\"owner\":0"), type);

        String limited = Cli.run(dump.toString(), "objects", "--type", "int", "--limit", "3").out();
        assertTrue(limited.matches("(?s).*\nmatching:\\s+65\nshown:\\s+3\nrecords:\n.*"), limited);
        assertEquals(3, limited.lines().filter(l -> l.trim().startsWith("0x")).count(), limited);

        String none = Cli.run(dump.toString(), "objects", "--type", "Nope", "--json").out();
        assertTrue(none.contains("\"note\":\"no type named 'Nope' in this dump\""), none);
        assertEquals(0, JsonCheck.firstLong(none, "matching"));
    }

    @Test
    void anAllocatorsDumpHasNoObjectsAndEveryCommandStillAnswers() {
        Cli cli = Cli.run(plain.toString(), "objects");
        assertEquals(0, cli.code(), cli.toString());
        assertTrue(cli.out().contains("none: no OBJECTS section in this dump"), cli.out());
        assertTrue(Cli.run(plain.toString(), "objects", "--json").out().contains("\"present\":false"));
        assertFalse(Cli.run(plain.toString(), "--json").out().contains("\"objects\""), "summary says nothing");
        assertEquals(0, Cli.run(plain.toString(), "validate").code());
        String diff = Cli.run(dump.toString(), "diff", plain.toString(), "--json").out();
        assertTrue(diff.contains("\"objectTypes\":\"not compared: the second dump has no OBJECTS section\""), diff);
    }

    @Test
    void summaryCountsTheObjectsAndValidatePassesAnExactRuntimeDump() {
        String summary = Cli.run(dump.toString(), "--json").out();
        assertEquals(155, JsonCheck.firstLong(summary, "objects"));
        assertEquals(6, JsonCheck.firstLong(summary, "objectTypes"));
        assertTrue(Cli.run(dump.toString()).out().contains("objects: "), "text summary too");
        Cli validate = Cli.run(dump.toString(), "validate");
        assertEquals(0, validate.code(), validate.toString());
        assertTrue(validate.out().contains(", 155 objects"), validate.out());
        assertTrue(validate.out().contains("runtime dump: every interpreter on the allocator was stopped"),
                "two other threads had heaps open: " + validate.out());
    }

    @Test
    void validateNamesObjectsOutsideLiveBlocksAndBrokenHeaders() throws Exception {
        byte[] bytes = Files.readAllBytes(dump);
        int records = DumpBytes.objectRecords(bytes);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long first = b.getLong(records);
        b.putLong(records, first + 16); // inside its block, no longer its start (blocks of objects are >= 48 bytes)
        int second = records + 48;
        long secondAddress = b.getLong(second);
        int secondLocal = b.getInt(second + 32); // which object comes second depends on the pages the heap used
        b.put(second + 44, (byte) 1); // flagged immortal, yet counted and owned
        DumpBytes.fixChecksums(bytes);
        Path bad = dir.resolve("bad-objects.cdump");
        Files.write(bad, bytes);
        Cli cli = Cli.run(bad.toString(), "validate");
        assertEquals(1, cli.code(), cli.toString());
        assertTrue(cli.out().contains("0x" + Long.toHexString(first + 16)), cli.out());
        assertTrue(cli.out().contains("object does not start a live block"), cli.out());
        assertTrue(cli.out().contains("0x" + Long.toHexString(secondAddress)), cli.out());
        assertTrue(cli.out().contains("object is flagged immortal but has local " + secondLocal + ","), cli.out());
        assertEquals("2", cli.out().lines().filter(l -> l.startsWith("violationCount")).findFirst().orElseThrow()
                .replaceAll("\\D", ""), cli.out());
    }

    @Test
    void diffShowsGrowthPerObjectType() throws Exception {
        Path before = dir.resolve("before.cdump");
        Path after = dir.resolve("after.cdump");
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState ts = interp.newThreadState()) {
                List<Long> kept = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    kept.add(Strs.of(ts, "s" + i));
                }
                interp.dumpHeap(before);
                for (int i = 0; i < 100; i++) {
                    kept.add(leakStr(ts, i));
                }
                for (int i = 0; i < 5; i++) {
                    kept.add(Lists.create(ts));
                }
                interp.dumpHeap(after);
                kept.forEach(obj -> Ref.decref(ts, obj));
            }
            interp.release();
        }
        Cli cli = Cli.run(before.toString(), "diff", after.toString(), "--json");
        assertEquals(0, cli.code(), cli.toString());
        String json = cli.out();
        assertEquals(105, JsonCheck.firstLong(json, "objectsGrowth"));
        String str = row(json, "type", "str");
        assertEquals(10, JsonCheck.firstLong(str, "objectsBefore"));
        assertEquals(110, JsonCheck.firstLong(str, "objectsAfter"));
        assertEquals(100, JsonCheck.firstLong(str, "objectsGrowth"));
        assertEquals(5, JsonCheck.firstLong(row(json, "type", "list"), "objectsGrowth"));
        String types = json.substring(json.indexOf("\"objectTypes\":["));
        assertTrue(types.indexOf("\"str\"") < types.indexOf("\"list\""), "more bytes grew as strs: " + types);
        String text = Cli.run(before.toString(), "diff", after.toString()).out();
        assertTrue(text.contains("objectTypes:"), text);
    }

    private static long leakStr(ThreadState ts, int i) {
        return Strs.of(ts, "leaked string number " + i);
    }
}
