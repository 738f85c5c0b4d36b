package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * An interpreter's collection walks an allocator that other interpreters share, and they are not stopped: one of
 * their threads may be making an object in a block this interpreter freed (its header still names this
 * interpreter) while the walk reads it. The walk must never take such an object for one of its own: it would count,
 * clear or free another interpreter's object (a double free when that object dies meanwhile).
 *
 * <p>The window is a few stores inside the header's initialisation; {@code cairn.runtime.yieldInInit} widens it,
 * so the race runs in a child JVM with that switch on (it would slow every other test down).
 */
class SharedAllocatorGcProbeTest {

    @Test
    void aCollectionNeverTakesAnotherInterpretersObjectBeingMadeForItsOwn() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("jdk.module.path", "") + File.pathSeparator
                + System.getProperty("java.class.path");
        Process p = new ProcessBuilder(java, "-ea", "--enable-native-access=ALL-UNNAMED",
                "-Dcairn.runtime.yieldInInit=true", "-cp", cp, Child.class.getName())
                .redirectErrorStream(true).start();
        String out;
        boolean exited = p.waitFor(120, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
        }
        out = new String(p.getInputStream().readAllBytes());
        System.out.print(out);
        assertEquals(true, exited, "child hung:\n" + out);
        assertEquals(0, p.exitValue(), "child failed (exit " + p.exitValue() + "):\n" + out);
    }

    /** The race: one thread frees A's lists and makes B's in their blocks while another collects A. */
    static final class Child {
        public static void main(String[] args) throws Exception {
            try (Runtime rt = Runtime.create()) {
                Interpreter a = rt.newInterpreter(InterpreterConfig.sharedAllocator());
                Interpreter b = rt.newInterpreter(InterpreterConfig.sharedAllocator());
                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<Throwable> error = new AtomicReference<>();
                Thread maker = Thread.ofPlatform().start(() -> {
                    try {
                        // one thread in both: one allocator heap, so B's objects take the blocks A's just freed
                        ThreadState ta = a.newThreadState();
                        ta.detach();
                        ThreadState tb = b.newThreadState();
                        tb.detach();
                        long[] objs = new long[500];
                        while (!stop.get()) {
                            ta.attach();
                            for (int i = 0; i < objs.length; i++) {
                                objs[i] = Lists.create(ta);
                            }
                            for (long o : objs) {
                                Ref.decref(ta, o);
                            }
                            ta.detach();
                            tb.attach();
                            for (int i = 0; i < objs.length; i++) {
                                long o = Lists.create(tb);
                                Ref.decref(tb, o); // dies at once, maybe while A's collection holds it
                            }
                            tb.detach();
                        }
                        ta.attach();
                        ta.close();
                        tb.attach();
                        tb.close();
                    } catch (Throwable e) {
                        error.compareAndSet(null, e);
                    }
                });
                long collections = 0;
                try (ThreadState ts = a.newThreadState()) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
                    while (System.nanoTime() < deadline && error.get() == null) {
                        long freed = Gc.collect(ts); // A has no garbage: its lists die by counting, outside pauses
                        collections++;
                        if (freed != 0) {
                            throw new AssertionError("collection " + collections + " of A freed " + freed
                                    + " objects, with no garbage of its own");
                        }
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                } finally {
                    stop.set(true);
                    maker.join();
                }
                if (error.get() != null) {
                    error.get().printStackTrace(System.out);
                    System.exit(1);
                }
                for (Interpreter in : List.of(a, b)) {
                    DestroyReport report = in.release().orElseThrow();
                    if (report.leakedObjects() != 0 || in.objectsAllocated() != in.objectsFreed()) {
                        System.out.println("interpreter " + in.id() + ": " + report + ", made "
                                + in.objectsAllocated() + ", freed " + in.objectsFreed());
                        System.exit(1);
                    }
                }
                System.out.println("ok: " + collections + " collections");
            }
            System.exit(0);
        }
    }
}
