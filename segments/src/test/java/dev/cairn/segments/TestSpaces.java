package dev.cairn.segments;

import dev.cairn.segments.SegmentConfig.Backend;
import dev.cairn.segments.internal.Platform;
import java.util.stream.Stream;

/** Shared test setup: the backends this machine can run, and small spaces over them. */
final class TestSpaces {

    static final long MiB = 1L << 20;
    static final long SEGMENT = 4 * MiB;
    static final long UNIT = 64 * 1024;

    private TestSpaces() {
    }

    /** Every backend that works here: ARENA always, MMAP on Linux x86_64/aarch64. */
    static Stream<Backend> backends() {
        return Platform.mmapSupported() ? Stream.of(Backend.MMAP, Backend.ARENA) : Stream.of(Backend.ARENA);
    }

    static SegmentConfig.Builder config(Backend backend) {
        return SegmentConfig.builder().backend(backend).segmentSize(SEGMENT).commitUnit(UNIT);
    }

    static SegmentSpace space(Backend backend) {
        return SegmentSpace.create(config(backend).build());
    }
}
