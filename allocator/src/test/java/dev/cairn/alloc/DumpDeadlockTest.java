package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dumpHeap} is safe from any thread while others work. It pinned the segment store (no segment given back)
 * and then read the stats, which take the heap registry's monitor; a thread closing an arena (or releasing or
 * reaping a heap) holds that monitor while it gives a segment back, which waits for the pin: both waited forever.
 * Found by the test-stress port (a dump taken while short-lived threads closed arenas).
 */
class DumpDeadlockTest {

    @Test
    void dumpWhileArenasCloseAndHeapsEnd(@TempDir Path dir) throws Exception {
        Allocator allocator = Allocator.create(); // closed only if nothing is stuck: close would wait too
        {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread dumper = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (int i = 0; !stop.get(); i++) {
                        allocator.dumpHeap(dir.resolve("heap-" + (i & 1) + ".cdump"));
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            Thread arenas = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (!stop.get()) {
                        try (Arena arena = allocator.newArena()) { // its close gives its segment back
                            arena.allocate(1000);
                        }
                        Thread.ofPlatform().start(() -> { // ends with a block: reaped by the next newArena
                            allocator.malloc(100);
                            allocator.releaseCurrentThread();
                        }).join();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            Thread.sleep(2_000);
            stop.set(true);
            for (Thread thread : List.of(dumper, arenas)) {
                thread.join(10_000);
                assertFalse(thread.isAlive(), thread + " is stuck (deadlock between the dump and a release)");
            }
            assertNull(failure.get());
            assertFalse(Files.list(dir).findAny().isEmpty());
        }
        allocator.close();
    }
}
