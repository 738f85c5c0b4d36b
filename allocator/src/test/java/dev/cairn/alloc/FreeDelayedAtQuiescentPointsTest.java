package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.reclaim.QsbrThread;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A lone {@code freeDelayed} on a thread that reports quiescent points is freed at a later one once the readers have
 * passed theirs, with no other allocator call: it used to wait in the thread's batch for 63 more delayed frees, an
 * allocation slow path or a {@code collect()}.
 */
class FreeDelayedAtQuiescentPointsTest {

    @Test
    void aLoneDelayedFreeIsFreedByQuiescentPointsAlone() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    QsbrThread qsbr = allocator.qsbrThread();
                    while (!stop.get()) {
                        qsbr.quiescent();
                        Thread.onSpinWait();
                    }
                    qsbr.unregister();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            try {
                QsbrThread qsbr = allocator.qsbrThread();
                long block = allocator.malloc(64);
                allocator.freeDelayed(block);
                assertEquals(1, allocator.stats().delayedFreesPending(), "pending until the readers pass a quiescent point");
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (allocator.stats().delayedFreesPending() != 0 && System.nanoTime() < deadline) {
                    qsbr.quiescent();
                    Thread.sleep(1);
                }
                assertEquals(0, allocator.stats().delayedFreesPending(), "still pending after 10 s of quiescent points");
                assertEquals(0, allocator.stats().blocksInUse());
                allocator.validate();
            } finally {
                stop.set(true);
                reader.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("reader failed", failure.get());
            }
        }
    }
}
