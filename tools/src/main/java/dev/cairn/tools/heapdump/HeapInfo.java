package dev.cairn.tools.heapdump;

/** One heap of the dump: the thread that created it, whether it was closed, its heap tag, its counters. */
public record HeapInfo(int id, int flags, long threadId, long slowPathCalls, long pagesRetired, String threadName) {

    public boolean closed() {
        return (flags & DumpFormat.HEAP_CLOSED) != 0;
    }

    /** The heap's tag ({@code Allocator.heap(int)}); 0 in dumps written before tags existed. */
    public int tag() {
        return (flags >>> DumpFormat.HEAP_TAG_SHIFT) & 0xFF;
    }
}
