package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.DumpOptions;
import dev.cairn.alloc.DumpSection;
import dev.cairn.alloc.DumpSink;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@link Interpreter#dumpHeap} takes its pause: every interpreter on the allocator stays stopped for the whole
 * dump, the world starts again whether the dump worked or not, and pauses the caller already holds are kept. What
 * the OBJECTS section holds is checked against the tools' reader in {@code tools} ({@code ObjectDumpTest}).
 */
class InterpreterDumpTest {

    @TempDir
    Path dir;

    /** A caller's own section: runs inside the dump, after the allocator's sections. */
    private record Probe(int kind, Runnable during) implements DumpSection {
        Probe(Runnable during) {
            this(0x2000, during);
        }

        @Override
        public void write(DumpSink out) {
            during.run();
        }
    }

    @Test
    void everyThreadStaysStoppedForTheWholeDumpAndRunsAgainAfterIt() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            AtomicLong progress = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch running = new CountDownLatch(1);
            Thread worker = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = interp.newThreadState()) {
                    running.countDown();
                    while (!stop.get()) {
                        Ref.decref(ts, Ints.of(ts, 100_000));
                        progress.incrementAndGet();
                        ts.checkpoint();
                    }
                }
            });
            assertTrue(running.await(30, TimeUnit.SECONDS));
            long[] during = new long[2];
            boolean[] stopped = new boolean[1];
            interp.dumpHeap(dir.resolve("stopped.cdump"), DumpOptions.DEFAULT.withSection(new Probe(() -> {
                stopped[0] = interp.stw.isStopped();
                during[0] = progress.get();
                sleep(100);
                during[1] = progress.get();
            })));
            assertTrue(stopped[0], "the world is stopped while the allocator writes");
            assertEquals(during[0], during[1], "the attached worker made no progress during the dump");
            assertStartedAgain(interp, progress);

            assertThrows(UncheckedIOException.class, () -> interp.dumpHeap(dir.resolve("no/such/dir/x.cdump")));
            assertStartedAgain(interp, progress);
            assertThrows(IllegalArgumentException.class, () -> interp.dumpHeap(dir.resolve("twice.cdump"),
                    DumpOptions.DEFAULT.withSection(new Probe(0x100, () -> { }))),
                    "a caller's section may not take the runtime's OBJECTS kind");
            assertStartedAgain(interp, progress);

            stop.set(true);
            worker.join();
            assertEquals("CAIRNDMP", new String(Files.readAllBytes(dir.resolve("stopped.cdump")), 0, 8,
                    java.nio.charset.StandardCharsets.US_ASCII));
            interp.release();
        }
    }

    @Test
    void aPauseTheCallerHoldsIsKept() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            interp.stopTheWorld();
            interp.dumpHeap(dir.resolve("held.cdump"));
            assertTrue(interp.stw.stoppedBy(Thread.currentThread()), "still stopped by the caller");
            interp.startTheWorld();
            assertFalse(interp.stw.isStopped());
            interp.release();
        }
    }

    @Test
    void onASharedAllocatorEveryInterpreterIsStoppedOrTheCallMustHoldThemAll() throws Exception {
        try (Runtime rt = Runtime.create()) {
            Interpreter shared = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            Interpreter own = rt.newInterpreter(InterpreterConfig.isolated());
            boolean[] stopped = new boolean[3];
            shared.dumpHeap(dir.resolve("shared.cdump"), DumpOptions.DEFAULT.withSection(new Probe(() -> {
                stopped[0] = rt.mainInterpreter().stw.isStopped();
                stopped[1] = shared.stw.isStopped();
                stopped[2] = own.stw.isStopped();
            })));
            assertTrue(stopped[0] && stopped[1], "both interpreters on the main allocator are stopped");
            assertFalse(stopped[2], "an interpreter with its own allocator is left running");

            shared.stopTheWorld();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> shared.dumpHeap(dir.resolve("some.cdump")));
            assertTrue(e.getMessage().contains("holds the pause of 1 of the 2 interpreters"), e.getMessage());
            assertTrue(shared.stw.stoppedBy(Thread.currentThread()), "the refused call left the pause alone");
            shared.startTheWorld();

            rt.stopTheWorld();
            shared.dumpHeap(dir.resolve("all.cdump"));
            assertTrue(rt.mainInterpreter().stw.stoppedBy(Thread.currentThread()));
            rt.startTheWorld();
            own.release();
            shared.release();
        }
    }

    @Test
    void aDestroyedInterpreterIsRefused() {
        try (Runtime rt = Runtime.create()) {
            Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
            interp.destroy();
            assertThrows(IllegalStateException.class, () -> interp.dumpHeap(dir.resolve("gone.cdump")));
        }
    }

    /** Not stopped, the pause mutex free for anyone, and the worker running again. */
    private static void assertStartedAgain(Interpreter interp, AtomicLong progress) throws InterruptedException {
        assertFalse(interp.stw.isStopped());
        assertFalse(interp.stw.mutex.isLocked(), "the pause mutex was given back");
        long before = progress.get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (progress.get() == before && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertTrue(progress.get() > before, "the worker runs again");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
