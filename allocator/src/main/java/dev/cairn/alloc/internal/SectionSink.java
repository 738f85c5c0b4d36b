package dev.cairn.alloc.internal;

import dev.cairn.alloc.DumpSink;
import java.io.IOException;

/**
 * The {@link DumpSink} handed to one extension section: writes through the dump's {@link DumpOutput} while the
 * section is open and refuses every call once {@link #close} has run, so a section that keeps its sink cannot write
 * into a later section or a finished file. Public only because {@code DumpSink} permits it; the package is not
 * exported.
 */
public final class SectionSink implements DumpSink {

    private final DumpOutput out;
    private boolean open = true;

    SectionSink(DumpOutput out) {
        this.out = out;
    }

    void close() {
        open = false;
    }

    @Override
    public DumpSink u8(int value) throws IOException {
        out().u8(value);
        return this;
    }

    @Override
    public DumpSink u16(int value) throws IOException {
        out().u16(value);
        return this;
    }

    @Override
    public DumpSink u32(int value) throws IOException {
        out().u32(value);
        return this;
    }

    @Override
    public DumpSink u64(long value) throws IOException {
        out().u64(value);
        return this;
    }

    @Override
    public DumpSink bytes(byte[] value) throws IOException {
        out().bytes(value);
        return this;
    }

    @Override
    public DumpSink string(String value) throws IOException {
        out().string(value);
        return this;
    }

    private DumpOutput out() {
        if (!open) {
            throw new IllegalStateException("a DumpSink is valid only inside its DumpSection.write");
        }
        return out;
    }
}
