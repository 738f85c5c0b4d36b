package dev.cairn.alloc;

/**
 * {@link MimallocApiTest} with the smallest segment (4 MiB): a large page fills a whole segment, alignments stop at
 * 4 MiB, and blocks above 512 KiB span several segment granules.
 */
class MimallocApiSmallSegmentsTest extends MimallocApiTest {

    @Override
    AllocatorConfig config() {
        return AllocatorConfig.builder().segmentSize(4L << 20).build();
    }
}
