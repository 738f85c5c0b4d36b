package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.eclipse.collections.impl.list.mutable.primitive.LongArrayList;
import org.junit.jupiter.api.Test;

/** Interpreters: ids, provenance, reference counts, destruction, isolation; thread states' indexes and ids. */
class InterpretersTest {

    @Test
    void provenanceDecidesWhatTheApiMayDo() {
        try (Runtime rt = Runtime.create()) {
            Interpreter main = rt.mainInterpreter();
            assertEquals(Whence.RUNTIME, main.whence());
            assertEquals(0, main.id());
            assertThrows(IllegalStateException.class, main::destroy);
            Interpreter api = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            assertEquals(Whence.API, api.whence());
            assertNotEquals(main.id(), api.id());
            assertSame(api, rt.lookup(api.id()).orElseThrow());
            Interpreter adopted = rt.adoptInterpreter(InterpreterConfig.isolated());
            assertEquals(Whence.ADOPTED, adopted.whence());
            assertThrows(IllegalStateException.class, adopted::newThreadState);
            assertThrows(IllegalStateException.class, adopted::destroy);
            assertTrue(adopted.release().isEmpty(), "not destroyed by its last API reference");
            assertFalse(adopted.isDestroyed());
            // reference counted: destroyed by the last release
            api.acquire();
            assertTrue(api.release().isEmpty());
            DestroyReport report = api.release().orElseThrow();
            assertEquals(api.id(), report.interpreterId());
            assertTrue(api.isDestroyed());
            assertTrue(rt.lookup(api.id()).isEmpty());
            assertThrows(IllegalStateException.class, api::newThreadState);
            assertThrows(IllegalStateException.class, api::acquire);
        }
    }

    @Test
    void destructionReportsLeaksAndReturnsMemory() {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            ThreadState ts = interp.newThreadState();
            long list = Lists.create(ts);
            for (int i = 0; i < 10; i++) {
                long s = Strs.of(ts, "leak " + i);
                Lists.append(ts, list, s);
                Ref.decref(ts, s);
            }
            long dict = Dicts.create(ts);
            long key = Strs.of(ts, "self");
            Dicts.put(ts, dict, key, dict); // a garbage cycle: collected at destruction, not a leak
            Ref.decref(ts, key);
            Ref.decref(ts, dict);
            assertThrows(IllegalStateException.class, interp::destroy, "thread states still open");
            assertThrows(IllegalStateException.class, interp::release, "still open: not destroyed");
            assertFalse(interp.isDestroyed());
            ts.close();
            DestroyReport report = interp.destroy();
            assertEquals(11, report.leakedObjects(), report.toString());
            assertEquals(10L, report.leakedByType().get("str"));
            assertEquals(1L, report.leakedByType().get("list"));
            assertTrue(report.bytesReturned() > 11 * 40);
            // the shared allocator holds nothing of it any more
            long[] left = new long[1];
            rt.mainAllocator.visitBlocks((address, usable, sizeClass, heapId) -> {
                if (dev.cairn.runtime.internal.ObjectLayout.blockKind(address)
                        == dev.cairn.runtime.internal.ObjectLayout.KIND_OBJECT
                        && dev.cairn.runtime.internal.ObjectLayout.interpSlot(address) != 0) {
                    left[0]++;
                }
                return true;
            });
            assertEquals(0, left[0]);
            assertThrows(IllegalStateException.class, () -> Ints.of(ts, 1000), "use after destroy");
        }
    }

    @Test
    void isolatedInterpretersNeverShareASegment() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter a = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter b = rt.newInterpreter(InterpreterConfig.isolated());
            long[][] made = new long[2][];
            Thread[] threads = new Thread[2];
            Interpreter[] both = {a, b};
            for (int k = 0; k < 2; k++) {
                int me = k;
                threads[k] = Thread.ofPlatform().start(() -> {
                    try (ThreadState ts = both[me].newThreadState()) {
                        long list = Lists.create(ts);
                        for (int i = 0; i < 20_000; i++) {
                            long s = Strs.of(ts, "x".repeat(i % 500));
                            Lists.append(ts, list, s);
                            Ref.decref(ts, s);
                        }
                        made[me] = new long[] {list};
                        Ref.decref(ts, list);
                    }
                });
            }
            threads[0].join();
            threads[1].join();
            LongArrayList blocksA = blocks(a);
            LongArrayList blocksB = blocks(b);
            assertTrue(blocksA.size() > 0 && blocksB.size() > 0 || made[0] != null);
            // compare every block of one with the other's segments, both ways
            for (int i = 0; i < blocksA.size(); i++) {
                assertFalse(b.ownsMemory(blocksA.get(i)));
            }
            for (int i = 0; i < blocksB.size(); i++) {
                assertFalse(a.ownsMemory(blocksB.get(i)));
            }
            try (ThreadState tsb = b.newThreadState()) {
                long mine = Ints.of(tsb, 5000);
                assertTrue(b.ownsMemory(mine));
                assertFalse(a.ownsMemory(mine));
                Ref.decref(tsb, mine);
            }
            assertEquals(0, a.release().orElseThrow().leakedObjects());
            assertEquals(0, b.release().orElseThrow().leakedObjects());
        }
    }

    private static LongArrayList blocks(Interpreter interp) {
        LongArrayList out = new LongArrayList();
        try (ThreadState ts = interp.newThreadState()) {
            long keep = Lists.create(ts);
            for (int i = 0; i < 1000; i++) {
                long v = Floats.of(ts, i);
                Lists.append(ts, keep, v);
                Ref.decref(ts, v);
            }
            interp.allocator.visitBlocks((address, usable, sizeClass, heapId) -> out.add(address));
            Ref.decref(ts, keep);
        }
        return out;
    }

    @Test
    void threadStatesGetFreshIdsAndReusedIndexes() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.mainInterpreter();
            ThreadState first = interp.newThreadState();
            assertEquals(0, first.index());
            assertThrows(IllegalStateException.class, interp::newThreadState, "one per thread and interpreter");
            long[] seen = new long[4];
            Thread t = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    seen[0] = ts.index();
                    seen[1] = ts.id();
                }
                try (ThreadState ts = interp.newThreadState()) {
                    seen[2] = ts.index();
                    seen[3] = ts.id();
                }
            });
            t.join();
            assertEquals(1, seen[0]);
            assertEquals(1, seen[2], "index reused");
            assertNotEquals(seen[1], seen[3], "id never reused");
            assertThrows(WrongThreadException.class, () -> {
                Thread other = Thread.ofPlatform().unstarted(first::detach);
                Throwable[] err = new Throwable[1];
                other.setUncaughtExceptionHandler((th, e) -> err[0] = e);
                other.start();
                other.join();
                if (err[0] != null) {
                    throw err[0];
                }
            });
            first.detach();
            assertFalse(first.isAttached());
            assertThrows(IllegalStateException.class, () -> Ints.of(first, 1000), "detached");
            first.attach();
            first.close();
            assertThrows(IllegalStateException.class, first::attach);
        }
    }
}
