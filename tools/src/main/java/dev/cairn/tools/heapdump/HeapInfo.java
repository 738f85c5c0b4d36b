package dev.cairn.tools.heapdump;

/** One heap of the dump: the thread that created it, whether it was closed, its counters. */
public record HeapInfo(int id, int flags, long threadId, long slowPathCalls, long pagesRetired, String threadName) {

    public boolean closed() {
        return (flags & DumpFormat.HEAP_CLOSED) != 0;
    }
}
