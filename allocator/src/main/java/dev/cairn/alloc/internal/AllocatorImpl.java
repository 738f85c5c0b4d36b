package dev.cairn.alloc.internal;

import static dev.cairn.alloc.internal.SegmentLayout.*;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.AllocatorStats;
import dev.cairn.alloc.BlockVisitor;
import dev.cairn.alloc.Heap;
import dev.cairn.alloc.internal.size.SizeClasses;
import dev.cairn.radix.AddressMap;
import dev.cairn.segments.SegmentSpace;
import dev.cairn.segments.raw.Raw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The allocator domain: its segment store, its heaps, and the free paths (which start from an address, not from a
 * heap). The malloc fast path is {@link HeapImpl#malloc}; the free fast paths are {@link #freeChecked} and
 * {@link #freeUnchecked}, which end in {@link #freeLocal} (the block's segment belongs to the calling thread) or
 * {@link #freeRemote} (one CAS onto the page's cross-thread list).
 *
 * <p>Checked free proves the address before touching it: the allocator's own {@link AddressMap} says it lies in a
 * live segment of this allocator; the header cookie matches; the offset from the page start is below the page's
 * published block bytes and an exact multiple of the block size; the block's live bit is set and its remote bit
 * clear. Only then does it write.
 */
public final class AllocatorImpl implements Allocator {

    private final AllocatorConfig config;
    private final boolean checked;
    private final int freeFill;
    private final SegmentStore store;
    private final AddressMap map;
    private final long cookie;
    private final long segmentMask;
    private final Arena metaArena = Arena.ofShared();
    private final long emptyPage;
    private final ConcurrentHashMap<Integer, HeapImpl> heaps = new ConcurrentHashMap<>();
    /** Heaps by id, for the free slow path (copy on write under {@code this}; read without locking). */
    private volatile HeapImpl[] heapTable = new HeapImpl[16];
    private final AtomicInteger nextHeapId = new AtomicInteger(1);
    private final ThreadLocal<HeapImpl> threadHeap = new ThreadLocal<>();
    private final LongAdder remoteFrees = new LongAdder();
    private volatile boolean closed;
    // ---- heap dumps, sampling, JMX (HeapDumper, SiteSampler, AllocatorManagement) ----
    private final long domainId = AllocatorManagement.nextDomainId();
    /** Null when sampling is off: the malloc and free paths then pay one null test. */
    private final SiteSampler sites;
    private final AllocatorManagement management;

    public AllocatorImpl(AllocatorConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.checked = config.checked();
        this.freeFill = config.freeFill();
        this.cookie = ThreadLocalRandom.current().nextLong() | 1;
        this.store = new SegmentStore(SegmentSpace.create(config.segmentConfig()), cookie, config.commitLimit());
        this.map = store.map();
        this.segmentMask = -store.segmentSize();
        // The page every empty direct-table slot points at: its free list is always empty.
        this.emptyPage = metaArena.allocate(DESCRIPTOR_SIZE, 64).address();
        this.sites = config.sampleRate() > 0 ? new SiteSampler(config.sampleRate()) : null;
        this.management = AllocatorManagement.register(this);
    }

    // ---------------------------------------------------------------------------------------------- accessors

    SegmentStore store() {
        return store;
    }

    boolean checked() {
        return checked;
    }

    long emptyPage() {
        return emptyPage;
    }

    long cookie() {
        return cookie;
    }

    Iterable<HeapImpl> heaps() {
        return heaps.values();
    }

    HeapImpl heapById(int id) {
        return heaps.get(id);
    }

    long remoteFrees() {
        return remoteFrees.sum();
    }

    SiteSampler sites() {
        return sites;
    }

    @Override
    public long domainId() {
        return domainId;
    }

    @Override
    public void dumpHeap(java.nio.file.Path path, dev.cairn.alloc.DumpOptions options) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        checkOpen();
        HeapDumper.write(this, path, options);
    }

    @Override
    public AllocatorConfig config() {
        return config;
    }

    // ---------------------------------------------------------------------------------------------- heaps

    @Override
    public HeapImpl heap() {
        HeapImpl heap = threadHeap.get();
        if (heap == null) {
            heap = newHeap();
            threadHeap.set(heap);
        }
        return heap;
    }

    HeapImpl newHeap() {
        checkOpen();
        HeapImpl heap = new HeapImpl(this, nextHeapId.getAndIncrement(), Thread.currentThread().threadId());
        heaps.put(heap.id(), heap);
        synchronized (this) {
            HeapImpl[] table = heapTable;
            if (heap.id() >= table.length) {
                table = java.util.Arrays.copyOf(table, Math.max(table.length * 2, heap.id() + 1));
            } else {
                table = table.clone();
            }
            table[heap.id()] = heap;
            heapTable = table;
        }
        return heap;
    }

    void destroyHeap(HeapImpl heap) {
        heaps.remove(heap.id());
        synchronized (this) {
            HeapImpl[] table = heapTable.clone();
            table[heap.id()] = null;
            heapTable = table;
        }
        if (!closed) {
            heap.destroy();
        }
        if (sites != null) {
            sites.forgetHeap(heap.id()); // the arena's blocks died without a free
        }
    }

    // ---------------------------------------------------------------------------------------------- allocation

    @Override
    public long malloc(long size) {
        return heap().malloc(size);
    }

    @Override
    public long calloc(long count, long size) {
        return heap().calloc(count, size);
    }

    @Override
    public long mallocAligned(long size, long alignment) {
        return heap().mallocAligned(size, alignment);
    }

    @Override
    public long realloc(long address, long newSize) {
        return reallocIn(heap(), address, newSize);
    }

    long reallocIn(HeapImpl heap, long address, long newSize) {
        if (newSize < 0) {
            throw Errors.negativeSize(newSize);
        }
        if (address == 0) {
            return heap.malloc(newSize);
        }
        long usable = usableSize(address);
        if (newSize <= usable && newSize >= usable / 2) {
            return address; // fits, and does not waste more than half the block
        }
        long moved = heap.malloc(newSize);
        Raw.copy(address, moved, Math.min(usable, newSize));
        free(address);
        return moved;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0) {
            throw Errors.negativeSize(byteSize);
        }
        long address = mallocAligned(byteSize, byteAlignment);
        return Raw.segment(address, byteSize);
    }

    long zero(long address, long size) {
        Raw.fill(address, size, (byte) 0);
        return address;
    }

    static long checkedProduct(long count, long size) {
        if (count < 0 || size < 0 || Math.multiplyHigh(count, size) != 0 || count * size < 0) {
            throw Errors.overflow(count, size);
        }
        return count * size;
    }

    static void checkAlignment(long alignment) {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw Errors.badAlignment(alignment);
        }
    }

    // ---------------------------------------------------------------------------------------------- free

    @Override
    public void free(long address) {
        if (address == 0) {
            return;
        }
        if (closed) {
            throw Errors.closed();
        }
        if (checked) {
            freeChecked(address);
        } else {
            freeUnchecked(address);
        }
        if (sites != null) {
            sites.onFree(address); // after the free: a refused free keeps its sample
        }
    }

    @Override
    public void free(MemorySegment segment) {
        free(segment.address());
    }

    private void freeChecked(long address) {
        // checkedPage's proof, written out so that each descriptor field is read once: the free path must stay
        // within C2's inlining node budget, and every FFM access spends a share of it (see Raw).
        long segment = map.lookup(address);
        if (segment == AddressMap.NOT_OURS || Raw.getLongAcquire(segment + SEG_COOKIE) != (segment ^ cookie)) {
            throw Errors.notOurs("free", address);
        }
        long page = descriptor(segment, (int) ((address - segment) >>> Raw.getInt(segment + SEG_PAGE_SHIFT)));
        long offset = address - Raw.getLong(page + PAGE_START);
        if (Long.compareUnsigned(offset, Raw.getLongAcquire(page + BLOCKS_BYTES)) >= 0) { // partner: Pages.format
            throw Errors.notBlockStart("free", address);
        }
        long index = (offset * Raw.getLong(page + RECIPROCAL)) >>> RECIPROCAL_SHIFT;
        if (index * Raw.getInt(page + BLOCK_SIZE) != offset) {
            throw Errors.notBlockStart("free", address);
        }
        long word = liveWord(Raw.getLong(page + LIVE_MAP), index);
        long bit = 1L << index;
        long live = Raw.getLong(word);
        if ((live & bit) == 0) {
            throw Errors.notLive("free", address);
        }
        long remoteWord = word + 8;
        if (Raw.getLong(segment + SEG_OWNER_TID) == Thread.currentThread().threadId()) {
            if ((Raw.getLong(remoteWord) & bit) != 0) {
                throw Errors.remotelyFreed("free", address);
            }
            Raw.putLong(word, live & ~bit);
            freeLocal(page, address);
        } else {
            if ((Raw.getAndBitwiseOrLong(remoteWord, bit) & bit) != 0) { // partner: clearBits in Pages.collect
                throw Errors.remotelyFreed("free", address);
            }
            freeRemote(page, address);
        }
    }

    /**
     * The page descriptor of the block at {@code address}, proven: a live segment of this allocator, a page in
     * use, an exact block start. Throws naming {@code op} otherwise; reads nothing it has not proven mapped.
     */
    private long checkedPage(String op, long address) {
        long segment = map.lookup(address);
        if (segment == AddressMap.NOT_OURS || Raw.getLongAcquire(segment + SEG_COOKIE) != (segment ^ cookie)) {
            throw Errors.notOurs(op, address);
        }
        long page = descriptor(segment, (int) ((address - segment) >>> Raw.getInt(segment + SEG_PAGE_SHIFT)));
        long blocksBytes = Raw.getLongAcquire(page + BLOCKS_BYTES); // partner: release store in Pages.format
        long offset = address - Raw.getLong(page + PAGE_START);
        if (Long.compareUnsigned(offset, blocksBytes) >= 0) {
            throw Errors.notBlockStart(op, address);
        }
        long index = (offset * Raw.getLong(page + RECIPROCAL)) >>> RECIPROCAL_SHIFT;
        if (index * Raw.getInt(page + BLOCK_SIZE) != offset) { // huge blocks: offset 0 is the only start
            throw Errors.notBlockStart(op, address);
        }
        return page;
    }

    private void freeUnchecked(long address) {
        long segment = address & segmentMask;
        if (Raw.getLong(segment + SEG_COOKIE) != (segment ^ cookie)) {
            segment = map.lookup(address); // a huge block placed past its segment's first granule
        }
        long page = descriptor(segment, (int) ((address - segment) >>> Raw.getInt(segment + SEG_PAGE_SHIFT)));
        if (Raw.getLong(segment + SEG_OWNER_TID) == Thread.currentThread().threadId()) {
            freeLocal(page, address);
        } else {
            freeRemote(page, address);
        }
    }

    private void freeLocal(long page, long address) {
        if (freeFill >= 0) {
            fillFreed(page, address);
        }
        Raw.putLong(address, Raw.getLong(page + LOCAL_FREE));
        Raw.putLong(page + LOCAL_FREE, address);
        long state = Raw.getLong(page + STATE); // USED | FLAGS << 32 | RETAIN << 48
        int used = (int) state - 1;
        Raw.putInt(page + USED, used);
        if ((short) (state >>> 32) != 0 || (used == 0 && (short) (state >>> 48) == 0)) {
            freeLocalSlow(page);
        }
    }

    private void freeLocalSlow(long page) {
        if ((Raw.getShort(page + FLAGS) & FLAG_HUGE) != 0) {
            releaseHuge(page);
            return;
        }
        heapOf(page).pageFreedSlow(page);
    }

    private void freeRemote(long page, long address) {
        if ((Raw.getShort(page + FLAGS) & FLAG_HUGE) != 0) {
            releaseHuge(page);
            return;
        }
        if (freeFill >= 0) {
            fillFreed(page, address);
        }
        long head;
        do {
            head = Raw.getLongVolatile(page + XTHREAD_FREE);
            Raw.putLong(address, head);
        } while (!Raw.casLong(page + XTHREAD_FREE, head, address)); // partner: getAndSet in Pages.collect
        remoteFrees.increment();
    }

    /** A huge block is freed by whichever thread frees it: its segment goes straight back. */
    private void releaseHuge(long page) {
        long segment = page & segmentMask;
        HeapImpl owner = heapOf(page);
        if (owner == null || owner.hugeSegments.remove(segment)) {
            store.release(segment);
        }
    }

    private void fillFreed(long page, long address) {
        long size = blockSizeOf(page);
        if (size > Long.BYTES) {
            Raw.fill(address + Long.BYTES, size - Long.BYTES, (byte) freeFill);
        }
    }

    private HeapImpl heapOf(long page) {
        return heapTable[Raw.getInt((page & segmentMask) + SEG_HEAP_ID)];
    }

    static long blockSizeOf(long page) {
        return (Raw.getShort(page + FLAGS) & FLAG_HUGE) != 0 ? Raw.getLong(page + BLOCKS_BYTES)
                : Raw.getInt(page + BLOCK_SIZE);
    }

    // ---------------------------------------------------------------------------------------------- queries

    @Override
    public long usableSize(long address) {
        checkOpen();
        if (!checked) {
            long segment = address & segmentMask;
            if (Raw.getLong(segment + SEG_COOKIE) != (segment ^ cookie)) {
                segment = map.lookup(address);
            }
            return blockSizeOf(descriptor(segment,
                    (int) ((address - segment) >>> Raw.getInt(segment + SEG_PAGE_SHIFT))));
        }
        if (address == 0) {
            throw Errors.notOurs("usableSize", address);
        }
        long page = checkedPage("usableSize", address);
        if (!Pages.isLive(page, address) || Pages.isRemoteFreed(page, address)) {
            throw Errors.notLive("usableSize", address);
        }
        return blockSizeOf(page);
    }

    @Override
    public boolean owns(long address) {
        checkOpen();
        return map.lookup(address) != AddressMap.NOT_OURS;
    }

    @Override
    public Arena newArena() {
        checkOpen();
        return new CairnArena(this, newHeap());
    }

    @Override
    public AllocatorStats stats() {
        checkOpen();
        return HeapWalker.stats(this);
    }

    @Override
    public void visitBlocks(BlockVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        checkOpen();
        HeapWalker.visit(this, visitor);
    }

    @Override
    public void validate() {
        checkOpen();
        HeapWalker.validate(this);
    }

    @Override
    public void collect(boolean force) {
        checkOpen();
        HeapImpl heap = threadHeap.get();
        if (heap != null) {
            heap.collect(force);
        }
        store.trimCache();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        if (config.dumpOnClose() != null) {
            dumpOnClose();
        }
        if (management != null) {
            management.unregister();
        }
        closed = true;
        for (HeapImpl heap : heaps.values()) {
            heap.closed = true;
        }
        store.releaseAll();
        store.space().close();
        metaArena.close();
    }

    private void dumpOnClose() {
        try {
            String path = config.dumpOnClose().replace("{id}", Long.toString(domainId));
            HeapDumper.write(this, java.nio.file.Path.of(path), dev.cairn.alloc.DumpOptions.DEFAULT);
        } catch (RuntimeException e) { // a bad path or a full disk: close must still release the memory
            System.getLogger("dev.cairn.alloc").log(System.Logger.Level.WARNING,
                    "Cairn: heap dump on close failed: " + e.getMessage());
        }
    }

    void checkOpen() {
        if (closed) {
            throw Errors.closed();
        }
    }

    @Override
    public String toString() {
        return "Allocator[" + (checked ? "checked" : "unchecked") + ", segments=" + store.liveSegments()
                + (closed ? ", closed]" : "]");
    }
}
