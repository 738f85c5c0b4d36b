package dev.cairn.alloc.internal;

/**
 * The allocator as seen from objects that may outlive its close on other threads' stacks and thread-locals: the
 * QSBR domain's hooks, the batches of delayed frees queued in it. {@code close()} cuts the link, so such an object
 * no longer keeps a closed allocator reachable, and the allocator's {@code Cleaner} can unmap its retired segments
 * (see {@code AllocatorImpl.close}). A thread's {@code ThreadLocal} value that led back to the allocator would keep
 * it, and its key, alive for as long as the thread runs.
 */
final class AllocatorLink {

    private volatile AllocatorImpl allocator;

    AllocatorLink(AllocatorImpl allocator) {
        this.allocator = allocator;
    }

    /** The allocator, or null once it closed. */
    AllocatorImpl get() {
        return allocator;
    }

    void cut() {
        allocator = null;
    }
}
