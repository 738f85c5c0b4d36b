package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The heap-dump settings of {@link AllocatorConfig}: builder, validation, system properties. */
class AllocatorDumpConfigTest {

    @Test
    void samplingSettings() {
        assertEquals(0, AllocatorConfig.defaults().sampleRate());
        assertEquals(AllocatorConfig.DEFAULT_SAMPLE_RATE,
                AllocatorConfig.builder().sampling(true).build().sampleRate());
        assertEquals(1, AllocatorConfig.builder().strictSampling().build().sampleRate());
        assertThrows(IllegalArgumentException.class, () -> AllocatorConfig.builder().sampleRate(-1).build());
        AllocatorConfig config = AllocatorConfig.builder().sampleRate(7).dumpOnClose("x-{id}.cdump").build();
        assertEquals(config, config.toBuilder().build());
    }

    @Test
    void systemProperties() {
        System.setProperty("cairn.sampleRate", "250");
        System.setProperty("cairn.dumpOnClose", "/tmp/cairn-{id}.cdump");
        try {
            AllocatorConfig config = AllocatorConfig.fromSystemProperties();
            assertEquals(250, config.sampleRate());
            assertEquals("/tmp/cairn-{id}.cdump", config.dumpOnClose());
        } finally {
            System.clearProperty("cairn.sampleRate");
            System.clearProperty("cairn.dumpOnClose");
        }
        assertNull(AllocatorConfig.fromSystemProperties().dumpOnClose());
    }

    @Test
    void domainIdsAreUnique() {
        try (Allocator a = Allocator.create(); Allocator b = Allocator.create()) {
            assertNotEquals(a.domainId(), b.domainId());
        }
    }
}
