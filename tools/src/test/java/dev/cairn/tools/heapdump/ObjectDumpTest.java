package dev.cairn.tools.heapdump;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.runtime.Dicts;
import dev.cairn.runtime.Interpreter;
import dev.cairn.runtime.InterpreterConfig;
import dev.cairn.runtime.Ints;
import dev.cairn.runtime.Lists;
import dev.cairn.runtime.Ref;
import dev.cairn.runtime.Runtime;
import dev.cairn.runtime.Strs;
import dev.cairn.runtime.ThreadState;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runtime dump read back agrees with what the runtime made: per type, the objects and their reference counts;
 * per object, its owner, counts, block and interpreter; the type table's static and heap types; dumps taken
 * while a thread churns objects are consistent. A dump without the section reads as before.
 */
class ObjectDumpTest {

    @TempDir
    Path dir;

    @Test
    void objectsOfTwoThreadsReadBackWithTheirTypesAndCounts() throws Exception {
        Path path = dir.resolve("objects.cdump");
        ObjectFixtures.Made made = ObjectFixtures.twoThreads(path);
        assertEquals(0, made.leakedObjects(), "the fixture freed everything it made");
        try (HeapDump dump = HeapDump.open(path)) {
            ObjectsSection section = dump.objects().orElseThrow();
            assertEquals(made.interpreterId(), section.interpreterId());
            assertEquals(1, section.interpreters(), "an isolated interpreter is alone on its allocator");

            Map<String, long[]> found = new TreeMap<>();
            for (ObjectRecord o : section.objects()) {
                long[] row = found.computeIfAbsent(section.typeOf(o).name(), k -> new long[2]);
                row[0]++;
                row[1] += section.refcount(o);
                assertEquals(dump.liveBlockSize(o.address()), o.size(), "each record is a live block of its size");
                assertEquals(section.interpreterSlot(), o.interpreterSlot());
                assertFalse(o.immortal(), "an isolated interpreter's allocator holds no immortal");
            }
            Map<String, String> expected = new TreeMap<>();
            ObjectFixtures.EXPECTED.forEach((k, v) -> expected.put(k, v[0] + " objects, " + v[1] + " refs"));
            Map<String, String> actual = new TreeMap<>();
            found.forEach((k, v) -> actual.put(k, v[0] + " objects, " + v[1] + " refs"));
            assertEquals(expected, actual);

            Set<Long> intsOfA = new HashSet<>();
            Map<Long, Integer> pointsByOwner = new HashMap<>();
            for (ObjectRecord o : section.objects()) {
                String type = section.typeOf(o).name();
                if (type.equals("int") && o.ownerThreadId() == made.ownerA()) {
                    intsOfA.add(o.address());
                    assertEquals(2, o.local(), "A's own reference and its list's");
                    assertEquals(made.increfedByB().contains(o.address()) ? 1 : 0, o.sharedCount(),
                            "B's increfs are in the shared word");
                    assertEquals("owned", o.state());
                    assertEquals(0, o.gcBits(), "ints are not tracked by the cycle collector");
                } else if (type.equals("Point")) {
                    pointsByOwner.merge(o.ownerThreadId(), 1, Integer::sum);
                    assertEquals(1, o.gcBits(), "instances are containers");
                }
            }
            assertEquals(made.intsOfA(), intsOfA);
            assertEquals(Map.of(made.ownerA(), 10, made.ownerB(), 7), pointsByOwner);

            ObjectType point = section.typeAt(made.pointType());
            assertNotNull(point);
            assertEquals("Point", point.name());
            assertTrue(point.heapType());
            assertFalse(point.immortal());
            assertEquals("instance", point.kindName());
            assertTrue(point.typeId() >= 0);
            assertEquals(18, point.threadReferences(), "A: 1 + 10 instances, B: 7 instances, none merged");
            ObjectRecord pointObject = section.objectAt(made.pointType());
            assertEquals("merged", pointObject.state());
            assertEquals(0, pointObject.headerRefcount(), "the header holds none of the per-thread references");
            assertEquals(18, section.refcount(pointObject));
            ObjectType intType = section.types().stream().filter(t -> t.name().equals("int")).findFirst()
                    .orElseThrow();
            assertTrue(intType.immortal());
            assertEquals(-1, intType.typeId());
            assertEquals("int", intType.kindName());
            assertNull(dump.pageAt(intType.address()), "static types live in the main allocator, not in this dump");
            assertEquals(6, section.types().size(), "int, str, list, dict, type and Point");
        }
    }

    @Test
    void aSharedAllocatorsDumpHoldsTheImmortalsAndEveryInterpretersObjects() throws Exception {
        Path path = dir.resolve("shared.cdump");
        long id = ObjectFixtures.sharedAllocator(path);
        try (HeapDump dump = HeapDump.open(path)) {
            ObjectsSection section = dump.objects().orElseThrow();
            assertEquals(id, section.interpreterId());
            assertEquals(2, section.interpreters(), "the main interpreter and the sharing one");
            Map<String, Integer> immortal = new TreeMap<>();
            int mine = 0;
            for (ObjectRecord o : section.objects()) {
                assertEquals(dump.liveBlockSize(o.address()), o.size());
                if (o.immortal()) {
                    assertEquals(0, o.interpreterSlot(), "immortals belong to the runtime");
                    assertEquals(-1, section.refcount(o));
                    immortal.merge(section.typeOf(o).name(), 1, Integer::sum);
                } else {
                    assertEquals(section.interpreterSlot(), o.interpreterSlot());
                    assertEquals("str", section.typeOf(o).name());
                    assertEquals(1, section.refcount(o));
                    mine++;
                }
            }
            assertEquals(3, mine);
            assertEquals(10, immortal.get("type"), "the static types");
            assertEquals(1, immortal.get("NoneType"));
            assertEquals(2, immortal.get("bool"));
            assertEquals(262, immortal.get("int"), "the small ints -5..256");
            assertTrue(immortal.get("str") >= 10, "at least the interned type names");
            for (ObjectType type : section.types()) {
                if (type.immortal()) {
                    assertNotNull(section.objectAt(type.address()), "static types are in the main allocator");
                }
            }
        }
    }

    /**
     * A thread making and dropping objects as fast as it can while the test thread dumps again and again: the pause
     * must hold it for the whole dump, so every record is a live block of the same moment's pages, and the churner's
     * objects never show half made or half freed.
     */
    @Test
    void dumpsWhileAThreadChurnsObjectsAreOneMomentsPicture() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch running = new CountDownLatch(1);
            Thread churn = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    long[] ring = new long[64]; // lists live across checkpoints, each replaced in turn
                    running.countDown();
                    for (int i = 0; !stop.get(); i++) {
                        long list = Lists.create(ts);
                        for (int k = 0; k < 1 + i % 20; k++) {
                            long item = Ints.of(ts, 1000 + k);
                            Lists.append(ts, list, item);
                            Ref.decref(ts, item);
                        }
                        Ref.xdecref(ts, ring[i % ring.length]);
                        ring[i % ring.length] = list;
                        ts.checkpoint();
                    }
                    for (long list : ring) {
                        Ref.xdecref(ts, list);
                    }
                }
            });
            assertTrue(running.await(30, TimeUnit.SECONDS));
            try {
                Path path = dir.resolve("churn.cdump");
                long seen = 0;
                for (int n = 0; n < 30; n++) {
                    interp.dumpHeap(path);
                    try (HeapDump dump = HeapDump.open(path)) {
                        ObjectsSection section = dump.objects().orElseThrow();
                        for (ObjectRecord o : section.objects()) {
                            assertEquals(o.size(), dump.liveBlockSize(o.address()),
                                    "dump " + n + ": object 0x" + Long.toHexString(o.address()) + " in a live block");
                            assertTrue(section.refcount(o) >= 1, "dump " + n + ": a live object is referenced");
                            assertNotEquals(0, o.ownerThreadId(), "dump " + n + ": owned by the churner");
                            seen++;
                        }
                    }
                }
                assertTrue(seen > 0, "the dumps caught objects in flight");
            } finally {
                stop.set(true);
                churn.join();
            }
            interp.release();
        }
    }

    /**
     * {@code Runtime.dumpHeap} is the main allocator's dump: the immortals, the main interpreter's objects and those
     * of an interpreter sharing its allocator, not those of an isolated one; the same under the caller's own
     * runtime-wide pause. Three thread states of one thread, detached during the dump, hold the objects.
     */
    @Test
    void theRuntimesDumpHoldsTheMainAllocatorsInterpretersOnly() throws Exception {
        Path free = dir.resolve("runtime.cdump");
        Path stopped = dir.resolve("runtime-stopped.cdump");
        Runtime closed;
        long mainId;
        try (Runtime rt = Runtime.create()) {
            closed = rt;
            mainId = rt.mainInterpreter().id();
            Interpreter shared = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter isolated = rt.newInterpreter(InterpreterConfig.isolated());
            ThreadState main = rt.mainInterpreter().newThreadState();
            long[] strs = {Strs.of(main, "m0"), Strs.of(main, "m1"), Strs.of(main, "m2"), Strs.of(main, "m3")};
            main.detach();
            ThreadState sharing = shared.newThreadState();
            long[] lists = {Lists.create(sharing), Lists.create(sharing), Lists.create(sharing)};
            sharing.detach();
            ThreadState alone = isolated.newThreadState();
            long[] dicts = new long[5];
            for (int i = 0; i < dicts.length; i++) {
                dicts[i] = Dicts.create(alone);
            }
            alone.detach();

            rt.dumpHeap(free);
            rt.stopTheWorld();
            try {
                rt.dumpHeap(stopped);
            } finally {
                rt.startTheWorld();
            }

            drop(main, strs);
            drop(sharing, lists);
            drop(alone, dicts);
            shared.release();
            isolated.release();
        }
        for (Path path : new Path[] {free, stopped}) {
            try (HeapDump dump = HeapDump.open(path)) {
                ObjectsSection section = dump.objects().orElseThrow();
                assertEquals(mainId, section.interpreterId(), "dumped as the main interpreter");
                assertEquals(2, section.interpreters(), "main and the sharing interpreter, not the isolated one");
                Map<String, Integer> mortal = new TreeMap<>();
                Map<String, Integer> immortal = new TreeMap<>();
                for (ObjectRecord o : section.objects()) {
                    assertEquals(dump.liveBlockSize(o.address()), o.size(), "each record is a live block");
                    (o.immortal() ? immortal : mortal).merge(section.typeOf(o).name(), 1, Integer::sum);
                }
                assertEquals(Map.of("str", 4, "list", 3), mortal, path.toString());
                assertEquals(1, immortal.get("NoneType"));
                assertEquals(262, immortal.get("int"), "the small ints");
            }
        }
        assertThrows(IllegalStateException.class, () -> closed.dumpHeap(dir.resolve("closed.cdump")));
    }

    private static void drop(ThreadState ts, long[] objects) {
        ts.attach();
        for (long obj : objects) {
            Ref.decref(ts, obj);
        }
        ts.close();
    }

    @Test
    void aDumpWithoutTheSectionHasNoObjects() throws Exception {
        try (HeapDump dump = HeapDump.open(DumpFixtures.smallDump(dir, "plain.cdump"))) {
            assertTrue(dump.objects().isEmpty());
            assertFalse(dump.pages().isEmpty());
        }
    }
}
