package dev.cairn.tools.heapdump;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A block freed with {@code freeDelayed} loses its allocation-site sample when it is really freed, as one freed with
 * {@code free} does: the sample stayed forever (sampler memory grew with every delayed free) and, once its address
 * was reused by an unsampled block, the dump's {@code sites} charged that block to the old site. Found by comparing
 * a strictly sampled dump's samples with {@code visitBlocks} after {@code freeDelayed} and {@code collect(true)}.
 */
class DelayedFreeSampleTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void delayedFreesDropTheirSamples(boolean checked) throws Exception {
        Path path = dir.resolve("delayed-" + checked + ".cdump");
        Set<Long> live = new HashSet<>();
        try (Allocator allocator = Allocator.create(AllocatorConfig.builder().strictSampling().checked(checked)
                .build())) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                blocks.add(allocator.malloc(i % 2 == 0 ? 48 : 5000));
            }
            blocks.add(allocator.malloc(3 << 20)); // index 300: a huge block, freed with delay below
            List<Long> byVirtual = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) {
                if (i % 3 == 0) {
                    allocator.freeDelayed(blocks.get(i)); // batched in this thread's heap
                } else if (i % 3 == 1) {
                    byVirtual.add(blocks.get(i)); // one QSBR item each
                }
            }
            Thread.ofVirtual().start(() -> byVirtual.forEach(allocator::freeDelayed)).join();
            for (int i = 0; i < 100 && allocator.stats().delayedFreesPending() != 0; i++) {
                allocator.collect(true);
            }
            assertEquals(0, allocator.stats().delayedFreesPending());
            allocator.visitBlocks((address, usable, bin, heap) -> live.add(address));
            assertEquals(blocks.size() - 101 - byVirtual.size(), live.size());
            allocator.dumpHeap(path);
        }
        try (HeapDump dump = HeapDump.open(path)) {
            List<Long> stale = new ArrayList<>();
            for (Sample sample : dump.samples()) {
                if (!live.contains(sample.address())) {
                    stale.add(sample.address());
                }
            }
            assertEquals(0, stale.size(), stale.size() + " samples of blocks freed with freeDelayed, e.g. "
                    + stale.stream().limit(3).map(Long::toHexString).toList());
            assertEquals(live.size(), dump.samples().size());
        }
    }
}
