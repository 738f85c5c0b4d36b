package dev.cairn.alloc;

import java.io.IOException;

/**
 * Where a {@link DumpSection} writes its body: little-endian integers and length-prefixed strings, the encodings of
 * {@code docs/heap-dump-format.md} ("Conventions"). Valid only inside {@link DumpSection#write}; afterwards every
 * call throws {@link IllegalStateException}.
 */
public sealed interface DumpSink permits dev.cairn.alloc.internal.SectionSink {

    /** The low 8 bits of {@code value}. */
    DumpSink u8(int value) throws IOException;

    /** The low 16 bits of {@code value}. */
    DumpSink u16(int value) throws IOException;

    DumpSink u32(int value) throws IOException;

    DumpSink u64(long value) throws IOException;

    DumpSink bytes(byte[] value) throws IOException;

    /** A {@code u16} byte length, then the UTF-8 bytes, cut to 65,535 bytes. */
    DumpSink string(String value) throws IOException;
}
