package dev.cairn.alloc.internal;

/** Exceptions of the allocator, built here so the fast paths stay small. Every message names the address. */
final class Errors {

    private Errors() {
    }

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    static IllegalArgumentException notOurs(String op, long address) {
        return new IllegalArgumentException(op + "(" + hex(address) + "): not an address of this allocator (foreign,"
                + " from another allocator, or in memory already given back)");
    }

    static IllegalArgumentException notBlockStart(String op, long address) {
        return new IllegalArgumentException(op + "(" + hex(address) + "): not the start of a block (interior pointer"
                + " or a page not in use)");
    }

    static IllegalArgumentException notLive(String op, long address) {
        return new IllegalArgumentException(op + "(" + hex(address) + "): block is not allocated (double free or"
                + " never allocated)");
    }

    static IllegalArgumentException arenaBlock(String op, long address) {
        return new IllegalArgumentException(op + "(" + hex(address) + "): block of an arena, which frees all its"
                + " blocks when it closes, without waiting for readers");
    }

    static IllegalArgumentException staleSegment(long address) {
        return new IllegalArgumentException("free(" + hex(address) + "): the segment's scope is closed (its arena, or"
                + " the allocator it came from, was closed), so its memory may be another block's now or unmapped");
    }

    static IllegalArgumentException reapedArenaSegment(long address) {
        return new IllegalArgumentException("free(" + hex(address) + "): the segment's arena was destroyed when its"
                + " thread ended with it open, so its memory may be another block's now");
    }

    static IllegalArgumentException remotelyFreed(String op, long address) {
        return new IllegalArgumentException(op + "(" + hex(address) + "): block was already freed by another thread,"
                + " or its delayed free is pending (double free)");
    }

    static IllegalArgumentException negativeSize(long size) {
        return new IllegalArgumentException("size must not be negative: " + size);
    }

    static IllegalArgumentException overflow(long count, long size) {
        return new IllegalArgumentException("calloc(" + count + ", " + size + "): count * size overflows or is"
                + " negative");
    }

    static IllegalArgumentException badAlignment(long alignment) {
        return new IllegalArgumentException("alignment must be a positive power of two: " + alignment);
    }

    static IllegalStateException closed() {
        return new IllegalStateException("the allocator is closed");
    }

    static IllegalStateException heapEnded() {
        return new IllegalStateException("this heap was released (Heap.release, or its thread ended); the thread's"
                + " next allocation through the Allocator gets a new heap");
    }

    static WrongThreadException wrongThread(long ownerTid) {
        if (ownerTid == SegmentLayout.SHARED_OWNER) {
            return new WrongThreadException("this shared heap is used without its lock by thread "
                    + Thread.currentThread());
        }
        return new WrongThreadException("this heap belongs to thread id " + ownerTid + ", not to thread "
                + Thread.currentThread());
    }

    static IllegalStateException corruptList(long page, long block, long next) {
        return new IllegalStateException("heap corruption: the free list of page " + hex(page) + " links block "
                + hex(block) + " to " + hex(next) + ", outside the page (a write after free?)");
    }

    static OutOfMemoryError largerThanAddressSpace(long size) {
        return new OutOfMemoryError("Cairn: cannot allocate " + size + " bytes: larger than the address space");
    }

    /**
     * Not "cannot allocate": the caller's catch (HeapImpl.mallocGeneric) wraps it with the size asked for, which
     * this rounded block size is not.
     */
    static OutOfMemoryError hugeSegmentTooLarge(long blockSize, long headerBytes) {
        return new OutOfMemoryError("Cairn: a block of " + blockSize + " bytes after " + headerBytes
                + " bytes of header and alignment is larger than the address space");
    }

    static OutOfMemoryError outOfMemory(long size, Throwable cause) {
        String why = String.valueOf(cause.getMessage());
        OutOfMemoryError error = new OutOfMemoryError("Cairn: cannot allocate " + size + " bytes: "
                + (why.startsWith("Cairn: ") ? why.substring("Cairn: ".length()) : why));
        error.initCause(cause);
        return error;
    }
}
