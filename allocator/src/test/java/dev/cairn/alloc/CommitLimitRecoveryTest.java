package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A malloc refused by the commit limit after its heap mapped a new segment (the segment's metadata fitted under the
 * limit, its first page did not) leaves nothing behind: the empty segment went back at once. It stayed in the heap
 * with no page in use, which no retire ever releases, so {@code collect(true)} left it mapped and its metadata
 * counted against the limit; a shared heap of virtual threads held it until close (found by AllocatorTortureTest).
 */
class CommitLimitRecoveryTest {

    private static final long MIB = 1L << 20;

    @ParameterizedTest(name = "virtual thread: {0}")
    @ValueSource(booleans = {false, true})
    void aSegmentWhosePageCannotBeCommittedGoesBack(boolean virtual) throws Exception {
        // 4 MiB segments: a 300 KiB block needs a large page of about 4 MiB, over the 2 MiB limit; its metadata is not.
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(4 * MIB)
                .commitLimit(2 * MIB).purgeDelay(Duration.ZERO).build())) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread thread = (virtual ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
                try {
                    for (int i = 0; i < 3; i++) {
                        assertThrows(OutOfMemoryError.class, () -> allocator.malloc(300_000));
                    }
                    allocator.free(allocator.malloc(100)); // a small page still fits
                    allocator.collect(true);
                    AllocatorStats stats = allocator.stats();
                    assertEquals(0, stats.liveSegments(), "segments left after collect(true)");
                    assertEquals(0, stats.committedBytes(), "committed bytes after collect(true)");
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            thread.join();
            assertNull(failure.get());
            allocator.validate();
        }
    }
}
