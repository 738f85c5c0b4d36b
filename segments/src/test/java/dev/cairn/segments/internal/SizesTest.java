package dev.cairn.segments.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SizesTest {

    @Test
    void humanUnits() {
        assertEquals("0 B", Sizes.human(0));
        assertEquals("1023 B", Sizes.human(1023));
        assertEquals("64 KiB", Sizes.human(64 * 1024));
        assertEquals("32 MiB", Sizes.human(32L << 20));
        assertEquals("1.5 GiB", Sizes.human(3L << 29));
        assertEquals("128 TiB", Sizes.human(1L << 47));
        assertEquals("128.0 TiB", Sizes.human((1L << 47) - (4L << 20)));
        assertEquals("-4 KiB", Sizes.human(-4096));
        assertEquals("8.0 EiB", Sizes.human(Long.MAX_VALUE));
        assertEquals("32 MiB (33554432 bytes)", Sizes.humanWithBytes(32L << 20));
        assertEquals("0x7f0000000000", Sizes.hex(0x7f00_0000_0000L));
    }
}
