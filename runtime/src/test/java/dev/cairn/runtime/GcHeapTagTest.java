package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.runtime.internal.ObjectLayout;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * GC-tracked objects (lists, dicts, tuples) come from the allocator's GC heap tag and nothing else does: the
 * collector walks that tag alone, so an object of another tag would never be a candidate, and a cycle through it
 * would never be collected.
 */
class GcHeapTagTest {

    private static Set<Long> blocksOfTag(Interpreter interp, int tag) {
        Set<Long> out = new HashSet<>();
        interp.allocator.visitBlocks(tag, (address, usable, sizeClass, heapId) -> out.add(address));
        return out;
    }

    @Test
    void trackedObjectsAndOnlyThemLiveInTheGcHeapOnPlatformAndVirtualThreads() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            for (boolean virtual : new boolean[] {false, true}) {
                Runnable body = () -> {
                    try (ThreadState ts = interp.newThreadState()) {
                        long list = Lists.create(ts);
                        long dict = Dicts.create(ts);
                        long number = Ints.of(ts, 1L << 40);
                        long real = Floats.of(ts, 2.5);
                        long text = Strs.of(ts, "not tracked");
                        Lists.append(ts, list, real);
                        long tuple = Tuples.of(ts, number, text);
                        Set<Long> gc = blocksOfTag(interp, ObjectLayout.GC_HEAP_TAG);
                        Set<Long> plain = blocksOfTag(interp, 0);
                        for (long tracked : new long[] {list, dict, tuple}) {
                            assertTrue(gc.contains(tracked), Types.nameOf(tracked) + " not in the GC heap");
                            assertFalse(plain.contains(tracked), Types.nameOf(tracked) + " in tag 0");
                        }
                        for (long untracked : new long[] {number, real, text}) {
                            assertFalse(gc.contains(untracked), Types.nameOf(untracked) + " in the GC heap");
                            assertTrue(plain.contains(untracked), Types.nameOf(untracked) + " not in tag 0");
                        }
                        // a cycle through a tracked object is found by the walk of the GC heap
                        Lists.append(ts, list, list);
                        for (long obj : new long[] {list, dict, number, real, text, tuple}) {
                            Ref.decref(ts, obj);
                        }
                        // the tuple died with its last reference; the list holds itself and the float
                        assertEquals(2, Gc.collect(ts), "the self-referencing list and its float");
                    }
                };
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Runnable guarded = () -> {
                    try {
                        body.run();
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                };
                Thread thread = virtual ? Thread.ofVirtual().start(guarded) : Thread.ofPlatform().start(guarded);
                thread.join();
                if (failure.get() != null) {
                    throw new AssertionError((virtual ? "virtual" : "platform") + " thread", failure.get());
                }
            }
            DestroyReport report = interp.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), "leaked: " + report.leakedByType());
        }
    }
}
