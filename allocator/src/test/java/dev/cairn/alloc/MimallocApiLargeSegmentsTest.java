package dev.cairn.alloc;

import dev.cairn.segments.SegmentConfig;
import java.time.Duration;

/**
 * {@link MimallocApiTest} with the largest segment (256 MiB, so alignments up to 256 MiB), transparent huge pages,
 * a commit limit, zero-filled frees and no purge delay.
 */
class MimallocApiLargeSegmentsTest extends MimallocApiTest {

    @Override
    AllocatorConfig config() {
        return AllocatorConfig.builder().segmentSize(256L << 20).hugePages(SegmentConfig.HugePages.TRANSPARENT)
                .commitLimit(8L << 30).freeFill(0).purgeDelay(Duration.ZERO).build();
    }
}
