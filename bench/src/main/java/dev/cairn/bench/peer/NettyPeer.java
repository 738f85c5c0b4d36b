package dev.cairn.bench.peer;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * Netty's direct-buffer allocators: {@code netty-pooled} ({@link PooledByteBufAllocator}, jemalloc-like arenas
 * with thread caches, enabled here for every thread since the workloads do not run on Netty's event-loop threads)
 * and {@code netty-adaptive} ({@link AdaptiveByteBufAllocator}, the newer magazine design). Freeing is
 * {@code release()}, which any thread may call. The forked JVM turns Netty's leak detector off: it samples
 * allocations and would measure the detector, not the allocator.
 */
final class NettyPeer extends ObjectPeer<ByteBuf> {
    private final ByteBufAllocator allocator;

    private NettyPeer(String name, ByteBufAllocator allocator) {
        super(name);
        this.allocator = allocator;
    }

    static NettyPeer pooled() {
        return new NettyPeer("netty-pooled", new PooledByteBufAllocator(true,
                PooledByteBufAllocator.defaultNumHeapArena(), PooledByteBufAllocator.defaultNumDirectArena(),
                PooledByteBufAllocator.defaultPageSize(), PooledByteBufAllocator.defaultMaxOrder(),
                PooledByteBufAllocator.defaultSmallCacheSize(), PooledByteBufAllocator.defaultNormalCacheSize(),
                true));
    }

    static NettyPeer adaptive() {
        return new NettyPeer("netty-adaptive", new AdaptiveByteBufAllocator(true, true));
    }

    @Override
    ByteBuf allocate(long size) {
        int capacity = Math.toIntExact(size);
        return allocator.directBuffer(capacity, capacity);
    }

    @Override
    void release(ByteBuf block) {
        block.release();
    }

    @Override
    void put(ByteBuf block, long offset, byte value) {
        block.setByte((int) offset, value);
    }

    @Override
    byte get(ByteBuf block, long offset) {
        return block.getByte((int) offset);
    }
}
