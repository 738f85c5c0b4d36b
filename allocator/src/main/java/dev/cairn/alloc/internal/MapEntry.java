package dev.cairn.alloc.internal;

/**
 * What the allocator's {@code AddressMap} holds for a segment: its base and, for a normal segment owned by a thread,
 * that thread's id. A checked free reads both with the one lookup it makes anyway, and the owner decides whether the
 * free may read the segment unguarded (see {@code AllocatorImpl.free}).
 *
 * <p>Layout, for segments of {@code 2^shift} bytes below {@code 2^47}: bits {@code [0, 47 - shift)} hold
 * {@code base >>> shift} (never 0: no segment starts at address 0, so no entry is {@code AddressMap.NOT_OURS}); bits
 * {@code [47 - shift, 64)}, at least 39 of them, hold the owner: the owning thread's id, or 0 for a segment no single
 * thread owns for sure (abandoned, a shared arena's, every huge segment: any thread may free a huge block and release
 * its segment) and for a thread id too large to fit. Thread ids start at 1, so 0 is nobody's. The owner field's top
 * bit set names one of the virtual threads' heaps ({@code SharedHeap}) by its heap id instead.
 *
 * <p>The invariant a free relies on: an entry names thread T only while T owns the segment, and only T writes an
 * entry naming T or moves a segment away from T while T is alive ({@code SegmentStore.newSegment}, adoption,
 * abandonment by T's own release; a dead thread's heap is reaped by others, but a dead thread frees nothing). So T,
 * finding its own id, knows no other thread can give that segment back while T's call runs. Likewise an entry names
 * shared heap H only while H owns the segment, and only a holder of H's lock writes such an entry or moves a segment
 * away from H (H never ends before the allocator closes, and never gives pages to the page pool): a thread that holds
 * H's lock and then finds H named knows the same for the length of its hold.
 */
final class MapEntry {

    /** Bits of user-space addresses: the map holds nothing at or above {@code 2^47}. */
    private static final int ADDRESS_BITS = 47;

    private MapEntry() {
    }

    /** The entry of a segment at {@code base} owned by {@code ownerTid} (0 when no single thread owns it). */
    static long of(long base, long ownerTid, int shift) {
        int ownerShift = ADDRESS_BITS - shift;
        // the owner field's top bit is the shared heaps' (ofSharedHeap): a thread id that reaches it is left out
        long owner = ownerTid > 0 && (ownerTid >>> (Long.SIZE - ownerShift - 1)) == 0 ? ownerTid : 0;
        return (base >>> shift) | (owner << ownerShift);
    }

    /** The entry of a segment at {@code base} owned by the virtual threads' heap {@code heapId}. */
    static long ofSharedHeap(long base, int heapId, int shift) {
        int ownerShift = ADDRESS_BITS - shift;
        return (base >>> shift) | ((sharedFlag(shift) | heapId) << ownerShift);
    }

    /** The virtual threads' heap an entry's {@link #owner} names, or -1 when it names none. */
    static int sharedHeap(long owner, int shift) {
        long flag = sharedFlag(shift);
        return (owner & flag) != 0 ? (int) (owner & ~flag) : -1;
    }

    /** The owner field's top bit: at least 2^38, far above any thread id a JVM hands out. */
    private static long sharedFlag(int shift) {
        return 1L << (Long.SIZE - (ADDRESS_BITS - shift) - 1);
    }

    /** The segment base of an entry that is not {@code NOT_OURS}. */
    static long base(long entry, int shift) {
        return (entry << (Long.SIZE - ADDRESS_BITS + shift)) >>> (Long.SIZE - ADDRESS_BITS);
    }

    /** The owner an entry names; 0 for none (and for {@code NOT_OURS}). */
    static long owner(long entry, int shift) {
        return entry >>> (ADDRESS_BITS - shift);
    }
}
