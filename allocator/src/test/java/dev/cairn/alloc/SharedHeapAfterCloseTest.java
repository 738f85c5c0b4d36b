package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The virtual threads' shared heap refuses {@code release()} after close, as every other call does. */
class SharedHeapAfterCloseTest {

    @Test
    void releaseOfTheSharedHeapAfterCloseIsAnIllegalState() throws Exception {
        Allocator allocator = Allocator.create();
        AtomicReference<Heap> shared = new AtomicReference<>();
        Thread.ofVirtual().start(() -> shared.set(allocator.heap())).join();
        shared.get().release(); // open: nothing to give back
        allocator.close();
        assertThrows(IllegalStateException.class, () -> shared.get().release());
        assertThrows(IllegalStateException.class, () -> shared.get().malloc(8));
    }
}
