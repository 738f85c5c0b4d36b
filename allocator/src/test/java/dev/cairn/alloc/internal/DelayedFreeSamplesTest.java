package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A block freed with {@code freeDelayed} drops its allocation-site sample when it is freed for real, as a
 * {@code free} does. The delayed paths (one QSBR item, or a batch) freed it without telling the sampler: every
 * sampled block freed with delay stayed in the sample table for ever, and a heap dump attributed the next block
 * allocated at that address to the old one's site (found reviewing what the torture test's sampling allocator does).
 */
class DelayedFreeSamplesTest {

    @ParameterizedTest(name = "virtual thread: {0}")
    @ValueSource(booleans = {false, true}) // a thread with a heap batches its delayed frees; a virtual one does not
    void delayedFreesDropTheirSamples(boolean virtual) throws Exception {
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().strictSampling().build())) {
            SiteSampler sampler = ((AllocatorImpl) allocator).sites();
            Thread thread = (virtual ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
                long[] blocks = new long[300];
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = allocator.malloc(16 + 8 * i);
                }
                for (long block : blocks) {
                    allocator.freeDelayed(block);
                }
                allocator.collect(true);
            });
            thread.join();
            allocator.collect(true);
            assertEquals(0, allocator.stats().delayedFreesPending());
            assertEquals(0, allocator.stats().blocksInUse());
            assertEquals(0, sampler.samples().size(), "samples of blocks freed with delay");
        }
    }
}
