package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.liveWord;

import dev.cairn.segments.raw.Raw;

/**
 * Clears the bitmap bits of blocks the owner takes back from other threads (remote frees it collects, pending
 * delayed frees whose goal is reached): the live bit at once (plain, owner only), the remote bit with one atomic
 * AND per run of blocks that share a bitmap word (a list freed in address order clears up to 64 blocks at once).
 * Partner of the atomic OR in {@code AllocatorImpl.free} and {@code AllocatorImpl.markPending}: other threads set
 * other bits of the same word meanwhile, so the clear must be atomic, but it need not be per block.
 *
 * <p>Use: one instance per loop on the owner thread; no block cleared here may leave the loop (be allocated again,
 * or have its page given back) before {@link #flush()}.
 */
final class RemoteBitClears {

    private long remoteWord;
    private long bits;

    /**
     * Clears the block's live bit now and gathers its remote bit for the next {@link #flush()}; returns whether the
     * live bit was set (clear: the owner freed the block too, racing this one, and it sits on a local list).
     */
    boolean clear(long page, long liveMap, long block) {
        long index = Pages.blockIndex(page, block);
        long word = liveWord(liveMap, index);
        long bit = 1L << index;
        long live = Raw.getLong(word);
        Raw.putLong(word, live & ~bit);
        if (word + 8 != remoteWord) {
            flush();
            remoteWord = word + 8;
        }
        bits |= bit;
        return (live & bit) != 0;
    }

    /** Clears the gathered remote bits. */
    void flush() {
        if (bits != 0) {
            Raw.getAndBitwiseAndLong(remoteWord, ~bits);
            bits = 0;
        }
    }
}
