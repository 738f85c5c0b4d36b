package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** {@link AllocatorConfig}'s validation of what it is given: builder values and system properties. */
class AllocatorConfigTest {

    @Test
    void systemPropertiesThatDoNotParseAreRefusedNamingTheProperty() {
        String[][] bad = {{"cairn.checked", "yes"}, {"cairn.checked", "1"}, {"cairn.segmentSize", "32m"},
            {"cairn.purgeDelayMillis", "ten"}, {"cairn.hugePages", "always"}, {"cairn.commitLimit", "1g"},
            {"cairn.freeFill", "0xAA"}, {"cairn.sampleRate", "99999999999"}};
        for (String[] property : bad) {
            System.setProperty(property[0], property[1]);
            try {
                // cairn.checked=yes used to read as false: a typo turned checked mode off
                Throwable thrown = assertThrows(IllegalArgumentException.class, AllocatorConfig::fromSystemProperties,
                        property[0] + "=" + property[1]);
                assertTrue(thrown.getMessage().contains(property[0]), thrown.getMessage());
                assertTrue(thrown.getMessage().contains(property[1]), thrown.getMessage());
            } finally {
                System.clearProperty(property[0]);
            }
        }
        System.setProperty("cairn.checked", " FALSE ");
        try {
            assertFalse(AllocatorConfig.fromSystemProperties().checked());
        } finally {
            System.clearProperty("cairn.checked");
        }
    }

    @Test
    void thePagePoolIsOnByDefaultAndTakesItsProperty() {
        assertTrue(AllocatorConfig.defaults().pagePool());
        System.setProperty("cairn.pagePool", "false");
        try {
            assertFalse(AllocatorConfig.fromSystemProperties().pagePool());
            assertFalse(AllocatorConfig.fromSystemProperties().toBuilder().build().pagePool());
        } finally {
            System.clearProperty("cairn.pagePool");
        }
        System.setProperty("cairn.pagePool", "on");
        try {
            IllegalArgumentException thrown = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, AllocatorConfig::fromSystemProperties);
            assertTrue(thrown.getMessage().contains("cairn.pagePool"), thrown.getMessage());
        } finally {
            System.clearProperty("cairn.pagePool");
        }
    }

    @Test
    void aPurgeDelayTooLongForNanosecondsIsRefused() {
        // it used to be accepted, and Allocator.create then failed with an ArithmeticException (long overflow)
        Throwable thrown = assertThrows(IllegalArgumentException.class,
                () -> AllocatorConfig.builder().purgeDelay(java.time.Duration.ofDays(200_000)).build());
        assertTrue(thrown.getMessage().contains("purgeDelay"), thrown.getMessage());
        AllocatorConfig longest = AllocatorConfig.builder().purgeDelay(AllocatorConfig.MAX_PURGE_DELAY).build();
        try (Allocator allocator = Allocator.create(longest)) {
            allocator.free(allocator.malloc(100));
            allocator.validate();
        }
    }

    @Test
    void systemPropertiesThatParseButAreOutOfRangeAreRefusedNamingTheProperty() {
        // each parsed, and the record then refused it without saying it came from a system property, or which one
        String[][] bad = {{"cairn.segmentSize", "5000000"}, {"cairn.segmentSize", "0"}, {"cairn.segmentSize",
            "536870912"}, {"cairn.purgeDelayMillis", "-1"}, {"cairn.purgeDelayMillis", "9223372036854775807"},
            {"cairn.commitLimit", "-5"}, {"cairn.freeFill", "256"}, {"cairn.freeFill", "-2"},
            {"cairn.sampleRate", "-1"}, {"cairn.dumpOnClose", "heap\0.cdump"}};
        for (String[] property : bad) {
            System.setProperty(property[0], property[1]);
            try {
                Throwable thrown = assertThrows(IllegalArgumentException.class, AllocatorConfig::fromSystemProperties,
                        property[0] + "=" + property[1]);
                assertTrue(thrown.getMessage().contains(property[0]), thrown.getMessage());
                assertTrue(thrown.getMessage().contains(property[1]), thrown.getMessage());
            } finally {
                System.clearProperty(property[0]);
            }
        }
    }

    @Test
    void aDumpPathThatIsNoPathIsRefusedWhenBuilt() {
        // it used to be accepted, and the dump on close then failed with only a logged warning
        for (String path : new String[] {"", "  ", "heap\0.cdump"}) {
            Throwable thrown = assertThrows(IllegalArgumentException.class,
                    () -> AllocatorConfig.builder().dumpOnClose(path).build(), path);
            assertTrue(thrown.getMessage().contains("dumpOnClose"), thrown.getMessage());
        }
        assertNull(AllocatorConfig.builder().dumpOnClose(null).build().dumpOnClose());
    }

    @Test
    void misspeltAllocatorPropertiesAreRefusedNamingThem() {
        // each used to be ignored without a word: -Dcairn.purgeDelay=0 left the delay at 10 ms
        for (String name : new String[] {"cairn.purgeDelay", "cairn.segmentsize", "cairn.commit_limit",
            "cairn.unchecked"}) {
            System.setProperty(name, "0");
            try {
                Throwable thrown = assertThrows(IllegalArgumentException.class, AllocatorConfig::fromSystemProperties,
                        name);
                assertTrue(thrown.getMessage().contains(name), thrown.getMessage());
                assertTrue(thrown.getMessage().contains("cairn.purgeDelayMillis"), thrown.getMessage());
            } finally {
                System.clearProperty(name);
            }
        }
        // the settings of other layers and of tests have a further dot (compared with the configuration read before,
        // so that the suite also runs under a -Dcairn.* setting)
        AllocatorConfig before = AllocatorConfig.fromSystemProperties();
        System.setProperty("cairn.runtime.someSetting", "x");
        try {
            assertEquals(before, AllocatorConfig.fromSystemProperties());
        } finally {
            System.clearProperty("cairn.runtime.someSetting");
        }
    }
}
