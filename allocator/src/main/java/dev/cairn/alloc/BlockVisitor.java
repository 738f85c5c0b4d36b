package dev.cairn.alloc;

/** Receives the live blocks of a heap walk ({@link Allocator#visitBlocks}). */
@FunctionalInterface
public interface BlockVisitor {

    /**
     * One live block.
     *
     * @param address the block's address (what {@code malloc} returned)
     * @param usableSize bytes usable at {@code address}
     * @param sizeClass the block's size class (bin), or -1 for a huge block
     * @param heapId the id of the heap that owns the block's page; 0 when no heap does (a segment in the abandoned
     *               pool, or a huge block whose heap was released or whose thread ended)
     * @return {@code false} to stop the walk
     */
    boolean visit(long address, long usableSize, int sizeClass, int heapId);
}
