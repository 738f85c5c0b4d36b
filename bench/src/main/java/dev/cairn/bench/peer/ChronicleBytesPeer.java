package dev.cairn.bench.peer;

import java.util.List;
import net.openhft.chronicle.bytes.BytesStore;

/**
 * Chronicle Bytes native stores: {@code BytesStore.nativeStoreWithFixedCapacity(size)} per block (memory from
 * {@code Unsafe.allocateMemory} plus Chronicle's reference counting), {@code releaseLast()} to free. Chronicle
 * reaches into JDK internals, so its forked JVM (and only its) gets the {@link #JVM_FLAGS}.
 */
final class ChronicleBytesPeer extends ObjectPeer<BytesStore<?, Void>> {

    /** What Chronicle needs opened on JDK 17+; given to this peer's forked JVM only. */
    static final List<String> JVM_FLAGS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-Dchronicle.analytics.disable=true",
            "-Djvm.resource.tracing=false");

    ChronicleBytesPeer() {
        super("chronicle-bytes");
    }

    @Override
    BytesStore<?, Void> allocate(long size) {
        return BytesStore.nativeStoreWithFixedCapacity(size);
    }

    @Override
    void release(BytesStore<?, Void> block) {
        block.releaseLast();
    }

    @Override
    void put(BytesStore<?, Void> block, long offset, byte value) {
        block.writeByte(offset, value);
    }

    @Override
    byte get(BytesStore<?, Void> block, long offset) {
        return block.readByte(offset);
    }
}
