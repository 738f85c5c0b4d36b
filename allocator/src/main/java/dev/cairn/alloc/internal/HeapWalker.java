package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.alloc.AllocatorStats;
import dev.cairn.alloc.BlockVisitor;
import dev.cairn.alloc.internal.size.SizeClasses;
import dev.cairn.segments.SegmentStats;
import dev.cairn.segments.raw.Raw;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Walks the allocator's segments page by page: stats, the live-block visit, and {@code validate()}. Segments are
 * walked under the store's release lock, so a walk from any thread never reads memory that was given back; page
 * contents of other running threads are read without synchronization, which is why the visit and validation are
 * exact only while the other threads are quiet.
 */
final class HeapWalker {

    private HeapWalker() {
    }

    // ---------------------------------------------------------------------------------------------- stats

    static AllocatorStats stats(AllocatorImpl allocator) {
        long[] pages = new long[SizeClasses.BIN_COUNT + 1];
        long[] blocks = new long[SizeClasses.BIN_COUNT + 1];
        long[] bytes = new long[SizeClasses.BIN_COUNT + 1];
        SegmentStore store = allocator.store();
        store.forEachSegment(segment -> forEachPage(segment, page -> {
            int bin = Raw.getInt(page + BIN);
            int slot = bin < 0 ? SizeClasses.BIN_COUNT : bin;
            long used = Math.max(0, Raw.getInt(page + USED));
            pages[slot]++;
            blocks[slot] += used;
            bytes[slot] += used * AllocatorImpl.blockSizeOf(page);
        }));
        List<AllocatorStats.BinStats> bins = new ArrayList<>();
        long totalPages = 0;
        long totalBlocks = 0;
        long totalBytes = 0;
        for (int slot = 0; slot <= SizeClasses.BIN_COUNT; slot++) {
            totalPages += pages[slot];
            totalBlocks += blocks[slot];
            totalBytes += bytes[slot];
            if (pages[slot] > 0) {
                boolean huge = slot == SizeClasses.BIN_COUNT;
                bins.add(new AllocatorStats.BinStats(huge ? -1 : slot, huge ? 0 : SizeClasses.blockSize(slot),
                        pages[slot], blocks[slot], bytes[slot]));
            }
        }
        HeapRegistry registry = allocator.registry();
        long slowPathCalls = registry.slowPathCalls(); // ended and live heaps in one step: see slowPathCalls
        int heapCount = registry.liveCount();
        AbandonedPool pool = allocator.pool();
        PagePool pagePool = allocator.pagePool();
        SegmentStats os = store.space().stats();
        return new AllocatorStats(AllocatorStats.VERSION, allocator.checked(), heapCount, store.liveSegments(),
                store.cachedSegments(), os.reservedBytes(), os.peakReservedBytes(), os.committedBytes(),
                os.peakCommittedBytes(), os.purgedBytes(), totalBytes, totalBlocks, totalPages,
                allocator.remoteFrees(), slowPathCalls, pool.size(), pool.abandonedCount(), pool.reclaimedCount(),
                pool.releasedCount(), registry.heapsReleased(), registry.deadThreadsDetected(),
                allocator.delayedPending(), pagePool.size(), pagePool.given(), pagePool.adopted(),
                pagePool.reclaimedOnFree(), bins);
    }

    /** Runs {@code action} on every page descriptor of {@code segment} that holds a size class or a huge block. */
    private static void forEachPage(long segment, java.util.function.LongConsumer action) {
        int count = Raw.getInt(segment + SEG_PAGE_COUNT);
        for (int index = 0; index < count; index++) {
            long page = descriptor(segment, index);
            if (Raw.getLongAcquire(page + BLOCKS_BYTES) != 0) {
                action.accept(page);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- visit

    /** {@link #visit}'s tag for a walk of every segment. */
    static final int ALL_TAGS = -1;

    /** Visits the live blocks of the segments of {@code tag}, or of every segment with {@link #ALL_TAGS}. */
    static void visit(AllocatorImpl allocator, int tag, BlockVisitor visitor) {
        boolean[] stop = {false};
        allocator.store().forEachSegment(segment -> {
            if (stop[0] || (tag != ALL_TAGS && Raw.getInt(segment + SEG_TAG) != tag)) {
                return;
            }
            // a huge segment keeps the id of the heap that ended without it: no heap owns it now
            boolean orphan = allocator.isOrphanHuge(segment);
            forEachPage(segment, page -> {
                // the page's own heap: another heap may have adopted it from the page pool (0: pooled, or nobody's)
                int heapId = orphan || isPooled(Raw.getLong(page + PAGE_OWNER)) ? 0 : Raw.getInt(page + PAGE_HEAP);
                if (!stop[0] && !visitPage(segment, page, heapId, visitor)) {
                    stop[0] = true;
                }
            });
        });
    }

    private static boolean visitPage(long segment, long page, int heapId, BlockVisitor visitor) {
        long blockSize = AllocatorImpl.blockSizeOf(page);
        long start = Raw.getLong(page + PAGE_START);
        int bin = Raw.getInt(page + BIN);
        boolean huge = (Raw.getShort(page + FLAGS) & FLAG_HUGE) != 0;
        if (blockSize <= 0 || (!huge && bin < 0) || !formatted(page)) {
            return true; // retired by its owner since forEachPage saw it (a walk that races frees): no blocks now
        }
        if (huge) {
            return visitor.visit(start, blockSize, -1, heapId);
        }
        BitSet free = freeBlocks(page);
        int capacity = Raw.getInt(page + CAPACITY);
        for (int index = free.nextClearBit(0); index < capacity; index = free.nextClearBit(index + 1)) {
            if (SegmentStore.givenBack(segment) || !formatted(page)) {
                return true; // by the visitor (an arena's close), or retired by its owner: its blocks are gone
            }
            if (!visitor.visit(start + index * blockSize, blockSize, bin, heapId)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the page still holds blocks: its owner's retirement clears this first ({@code Pages.unformat}). */
    private static boolean formatted(long page) {
        return Raw.getLongAcquire(page + BLOCKS_BYTES) != 0;
    }

    /** The blocks on any of the page's three lists, and those never carved. Links leaving the page end a list. */
    private static BitSet freeBlocks(long page) {
        int capacity = Raw.getInt(page + CAPACITY);
        BitSet free = new BitSet(Math.max(capacity, 1));
        for (long list : new long[] {FREE, LOCAL_FREE, XTHREAD_FREE}) {
            long block = list == XTHREAD_FREE ? Raw.getLongVolatile(page + list) & ~ABANDONED_TAG
                    : Raw.getLong(page + list);
            for (int steps = 0; steps <= capacity && isBlockOf(page, block); steps++) {
                free.set((int) Pages.blockIndex(page, block));
                block = Raw.getLong(block);
            }
        }
        return free;
    }

    private static boolean isBlockOf(long page, long block) {
        long offset = block - Raw.getLong(page + PAGE_START);
        long blockSize = Raw.getInt(page + BLOCK_SIZE);
        return block != 0 && Long.compareUnsigned(offset, Raw.getInt(page + CAPACITY) * blockSize) < 0
                && offset % blockSize == 0;
    }

    // ---------------------------------------------------------------------------------------------- validate

    static void validate(AllocatorImpl allocator) {
        java.util.Map<Long, HeapImpl> ownerOf = new java.util.HashMap<>();
        for (HeapImpl heap : allocator.heaps()) {
            for (long segment : heap.ownedSegments()) {
                if (ownerOf.put(segment, heap) != null) {
                    throw violation(segment, "segment is listed by two heaps");
                }
            }
        }
        int[] pooled = {0};
        long[] pending = {0};
        int[] pooledPages = {0};
        allocator.store().forEachSegment(segment -> {
            if (!allocator.store().cookieMatches(segment)) {
                throw violation(segment, "segment header cookie does not match");
            }
            if (Raw.getInt(segment + SEG_KIND) != Kind.HUGE.ordinal()) {
                pooled[0] += validateOwnership(allocator, segment, ownerOf.get(segment)) ? 1 : 0;
            }
            int[] usedPages = {0};
            forEachPage(segment, page -> {
                if ((Raw.getShort(page + FLAGS) & FLAG_HUGE) == 0) {
                    usedPages[0]++;
                    pending[0] += validatePage(allocator, page, validatePageOwner(allocator, segment, page,
                            ownerOf.get(segment), pooledPages));
                } else if (allocator.checked() && (Raw.getLong(Raw.getLong(page + LIVE_MAP) + 8) & 1) != 0) {
                    pending[0]++; // a huge block whose delayed free is pending
                }
            });
            if (Raw.getInt(segment + SEG_KIND) != Kind.HUGE.ordinal()
                    && usedPages[0] != Raw.getInt(segment + SEG_USED_PAGES)) {
                throw violation(segment, "segment counts " + Raw.getInt(segment + SEG_USED_PAGES)
                        + " used pages but " + usedPages[0] + " pages hold a size class");
            }
        });
        if (allocator.checked() && pending[0] != allocator.delayedPending()) {
            throw new IllegalStateException("heap invariant violated: " + pending[0] + " blocks are marked pending"
                    + " (delayed free) but " + allocator.delayedPending() + " delayed frees are outstanding");
        }
        String pagePoolViolation = allocator.pagePool().validate();
        if (pagePoolViolation != null) {
            throw new IllegalStateException("heap invariant violated: " + pagePoolViolation);
        }
        if (pooledPages[0] != allocator.pagePool().size()) {
            throw new IllegalStateException("heap invariant violated: the page pool holds "
                    + allocator.pagePool().size() + " pages but " + pooledPages[0] + " pages are marked pooled");
        }
        if (pooled[0] != allocator.pool().size()) {
            throw new IllegalStateException("heap invariant violated: the abandoned pool holds "
                    + allocator.pool().size() + " segments but " + pooled[0] + " live segments are abandoned");
        }
        for (HeapImpl heap : allocator.heaps()) {
            for (boolean full : new boolean[] {false, true}) {
                int badTail = heap.tailMismatch(full);
                if (badTail >= 0) {
                    throw new IllegalStateException("heap invariant violated: heap " + heap.id() + "'s "
                            + (full ? "full queue" : "queue") + " of bin " + badTail
                            + " does not end at its recorded tail");
                }
            }
            for (boolean full : new boolean[] {false, true}) {
                heap.forEachQueuedPage((bin, page) -> {
                    if (Raw.getLong(page + PAGE_OWNER) != heap.ownerTid() || Raw.getInt(page + PAGE_HEAP) != heap.id()) {
                        throw violation(page, "page in " + (full ? "the full queue" : "a queue") + " of heap "
                                + heap.id() + " is owned by heap " + Raw.getInt(page + PAGE_HEAP) + " on thread "
                                + Raw.getLong(page + PAGE_OWNER));
                    }
                }, full);
            }
            heap.forEachQueuedPage((bin, page) -> {
                if (Raw.getInt(page + BIN) != bin || (Raw.getShort(page + FLAGS) & FLAG_IN_FULL) != 0) {
                    throw violation(page, "page in the queue of bin " + bin + " has bin " + Raw.getInt(page + BIN)
                            + " and flags " + Raw.getShort(page + FLAGS));
                }
            }, false);
            heap.forEachQueuedPage((bin, page) -> {
                if ((Raw.getShort(page + FLAGS) & FLAG_IN_FULL) == 0) {
                    throw violation(page, "page in the full queue of bin " + bin + " lacks the in-full flag");
                }
            }, true);
        }
    }

    /**
     * A normal segment is either owned (its header names a live heap that lists it; its pages' cross-thread lists
     * are untagged) or abandoned (in the pool, no owner, every page tagged). Returns whether it is abandoned.
     */
    private static boolean validateOwnership(AllocatorImpl allocator, long segment, HeapImpl lister) {
        long ownerTid = Raw.getLong(segment + SEG_OWNER_TID);
        int heapId = Raw.getInt(segment + SEG_HEAP_ID);
        boolean abandoned = allocator.pool().contains(segment);
        if (abandoned) {
            if (ownerTid != NO_OWNER || heapId != 0 || lister != null) {
                throw violation(segment, "abandoned segment has owner thread " + ownerTid + ", heap " + heapId
                        + (lister != null ? ", and heap " + lister.id() + " lists it" : ""));
            }
        } else if (lister == null || lister.id() != heapId || lister.ownerTid() != ownerTid) {
            throw violation(segment, "segment names heap " + heapId + " on thread " + ownerTid + " but "
                    + (lister == null ? "no heap lists it and it is not in the abandoned pool"
                            : "heap " + lister.id() + " on thread " + lister.ownerTid() + " lists it"));
        }
        boolean arena = Raw.getInt(segment + SEG_ARENA) != 0;
        if (arena != (lister != null && lister.role().arena())) {
            throw violation(segment, "segment's arena flag is " + arena + " but its heap is "
                    + (lister == null ? "none" : lister.role().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        int tag = Raw.getInt(segment + SEG_TAG);
        if (tag < 0 || tag >= dev.cairn.alloc.Allocator.HEAP_TAGS || (lister != null && lister.tag() != tag)) {
            throw violation(segment, "segment's heap tag is " + tag
                    + (lister != null ? " but its heap's is " + lister.tag() : ", out of range"));
        }
        int count = Raw.getInt(segment + SEG_PAGE_COUNT);
        int end = Raw.getInt(segment + SEG_PAGE_END);
        int hint = Raw.getInt(segment + SEG_NEXT_FREE_HINT);
        int first = Raw.getInt(segment + SEG_FIRST_PAGE);
        for (int index = 0; index < count; index++) {
            long page = descriptor(segment, index);
            if (index >= first && index < hint && Raw.getInt(page + BLOCK_SIZE) == 0) {
                throw violation(page, "page " + index + " is unused below its segment's page search start " + hint);
            }
            if (index >= end && (Raw.getInt(page + BLOCK_SIZE) != 0
                    || (Raw.getShort(page + FLAGS) & FLAG_PURGE_PENDING) != 0)) {
                throw violation(page, "page " + index + " is " + (Raw.getInt(page + BLOCK_SIZE) != 0 ? "in use"
                        : "awaiting its purge") + " past its segment's page end " + end);
            }
            // only the segment's own pages: one in the page pool or adopted from it is never tagged
            if (Raw.getInt(page + BLOCK_SIZE) != 0 && Raw.getLong(page + PAGE_OWNER) == ownerTid
                    && ((Raw.getLongVolatile(page + XTHREAD_FREE) & ABANDONED_TAG) != 0) != abandoned) {
                throw violation(page, "page's cross-thread list is " + (abandoned ? "untagged" : "tagged")
                        + " but its segment is " + (abandoned ? "abandoned" : "owned"));
            }
        }
        return abandoned;
    }

    /**
     * Checks who owns a page of a normal segment: its segment's heap ({@code lister}, or nobody when the segment is
     * abandoned), the page pool (then it is in it, untagged), or a live heap that adopted it from there. Returns the
     * owning heap (null when none), counting pooled pages in {@code pooledPages}.
     */
    private static HeapImpl validatePageOwner(AllocatorImpl allocator, long segment, long page, HeapImpl lister,
            int[] pooledPages) {
        long owner = Raw.getLong(page + PAGE_OWNER);
        int heapId = Raw.getInt(page + PAGE_HEAP);
        if (isPooled(owner)) {
            if (!allocator.pagePool().contains(page) || (Raw.getLongVolatile(page + XTHREAD_FREE) & ABANDONED_TAG) != 0) {
                throw violation(page, "pooled page is " + (allocator.pagePool().contains(page) ? "tagged"
                        : "not in the page pool"));
            }
            pooledPages[0]++;
            return null;
        }
        if (allocator.pagePool().contains(page)) {
            throw violation(page, "page in the page pool is owned by thread " + owner);
        }
        if (lister != null && owner == lister.ownerTid() && heapId == lister.id()) {
            return lister;
        }
        if (lister == null && owner == NO_OWNER && heapId == 0) {
            return null; // abandoned with its segment
        }
        HeapImpl adopter = allocator.heapById(heapId);
        if (adopter == null || adopter.ownerTid() != owner || adopter.role().arena()) {
            throw violation(page, "page owned by heap " + heapId + " on thread " + owner + ", which is not "
                    + (lister == null ? "nobody (its segment is abandoned)" : "its segment's heap " + lister.id())
                    + " nor a live heap that adopted it");
        }
        return adopter;
    }

    /** Checks one page; returns the number of its blocks whose delayed free is pending (checked mode). */
    private static int validatePage(AllocatorImpl allocator, long page, HeapImpl owner) {
        int capacity = Raw.getInt(page + CAPACITY);
        int reserved = Raw.getInt(page + RESERVED);
        int used = Raw.getInt(page + USED);
        int bin = Raw.getInt(page + BIN);
        if (bin < 0 || bin >= SizeClasses.BIN_COUNT || SizeClasses.blockSize(bin) != Raw.getInt(page + BLOCK_SIZE)) {
            throw violation(page, "bin " + bin + " does not match block size " + Raw.getInt(page + BLOCK_SIZE));
        }
        if (capacity > reserved || used < 0 || used > capacity) {
            throw violation(page, "capacity " + capacity + ", reserved " + reserved + ", used " + used);
        }
        BitSet seen = new BitSet(capacity);
        int free = walkList(page, Raw.getLong(page + FREE), seen, "free");
        int local = walkList(page, Raw.getLong(page + LOCAL_FREE), seen, "localFree");
        // Checked mode: blocks a malloc set aside (HeapImpl.deferred) count as free, off every list.
        BitSet deferred = new BitSet(capacity);
        if (owner != null && allocator.checked()) {
            owner.forEachDeferred(page, block -> {
                if (!isBlockOf(page, block) || seen.get((int) Pages.blockIndex(page, block))) {
                    throw violation(page, "set-aside block " + Errors.hex(block) + " is not a free block off its lists");
                }
                deferred.set((int) Pages.blockIndex(page, block));
            });
        }
        BitSet remote = new BitSet(capacity);
        int xthread = walkList(page, Raw.getLongVolatile(page + XTHREAD_FREE) & ~ABANDONED_TAG, remote,
                "xthreadFree");
        // A block both free here and on the cross-thread list is a raced double free waiting for its collection
        // (Pages, "Raced double frees"): checked mode only, where the collection leaves it out (live bit clear).
        BitSet raced = (BitSet) remote.clone();
        BitSet freeHere = (BitSet) seen.clone();
        freeHere.or(deferred);
        raced.and(freeHere);
        if (!raced.isEmpty() && !allocator.checked()) {
            throw violation(page, "a block is both on a local list and on the cross-thread list");
        }
        int deferredCount = deferred.cardinality();
        if (used + free + local + deferredCount != capacity || xthread - raced.cardinality() > used) {
            throw violation(page, "used " + used + " (of which " + xthread + " on the cross-thread list) + free "
                    + free + " + local " + local + " + set aside " + deferredCount + " != capacity " + capacity);
        }
        int pending = 0;
        if (allocator.checked()) {
            long bitmaps = Raw.getLong(page + LIVE_MAP);
            for (int index = 0; index < capacity; index++) {
                long word = liveWord(bitmaps, index);
                boolean live = (Raw.getLong(word) & (1L << index)) != 0;
                boolean remoteBit = (Raw.getLong(word + 8) & (1L << index)) != 0;
                boolean onLocal = seen.get(index) || deferred.get(index);
                boolean onRemote = remote.get(index);
                if (live && remoteBit && !onLocal && !onRemote) {
                    pending++; // freeDelayed marked it; the real free waits for the readers
                    continue;
                }
                if (!live && remoteBit && onLocal) {
                    // Freed by its owner and claimed by another thread at once: pushed (onRemote), a pending
                    // delayed free (counted as pending), or a push not yet made; each resolved where it ends.
                    pending += onRemote ? 0 : 1;
                    continue;
                }
                if (live == onLocal || remoteBit != onRemote || (onRemote && !live)) {
                    throw violation(page, "block " + index + ": live bit " + live + ", remote bit " + remoteBit
                            + ", on local list " + onLocal + ", on cross-thread list " + onRemote);
                }
            }
        }
        return pending;
    }

    /** Counts a list, checking that every link is a block of the page and that no block repeats. */
    private static int walkList(long page, long head, BitSet seen, String name) {
        int count = 0;
        int capacity = Raw.getInt(page + CAPACITY);
        for (long block = head; block != 0; block = Raw.getLong(block)) {
            if (!isBlockOf(page, block)) {
                throw violation(page, name + " list links to " + Errors.hex(block) + ", not a carved block of it");
            }
            int index = (int) Pages.blockIndex(page, block);
            if (seen.get(index) || ++count > capacity) {
                throw violation(page, name + " list repeats block " + Errors.hex(block) + " (cycle or double free)");
            }
            seen.set(index);
        }
        return count;
    }

    private static IllegalStateException violation(long where, String what) {
        return new IllegalStateException("heap invariant violated at " + Errors.hex(where) + ": " + what);
    }
}
