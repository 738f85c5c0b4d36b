package dev.cairn.radix;

import dev.cairn.radix.internal.RadixLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * Which segment owns an address: a map from granule-aligned address ranges to non-zero {@code long} values, with a
 * lock-free {@link #lookup(long)} of a few dependent loads. The allocator calls it on every checked free to reject
 * foreign and stale pointers.
 *
 * <p>Structure: two levels on the Java heap. {@code key = address >>> granuleShift}; its high bits index the root
 * ({@code long[][]}), its low bits a leaf ({@code long[]} of values, {@link #NOT_OURS} where unmapped). Bit split and
 * sizes: {@link RadixLayout}. Addresses at or above {@link #USER_ADDRESS_LIMIT}, negative ones, and the granule at
 * address 0 are never mapped.
 *
 * <p>A flat window of {@link RadixLayout#WINDOW_LENGTH} granules, centred on the first insert, mirrors the tree where
 * {@code mmap} puts a process's segments: a lookup inside it is one load (docs/design/address-map.md, 2a).
 *
 * <p>Concurrency protocol (long form: docs/design/address-map.md).
 * <ul>
 *   <li>Writers ({@code insert}, {@code remove}) serialize on {@code writerLock}; readers take no lock.</li>
 *   <li>A value is stored with a release store into a granule's leaf slot; {@code lookup} loads it with a plain
 *       ("dependent") load, as jemalloc's rtree does on its hot path: the answer reflects every insert and remove
 *       that happened-before the lookup, but a caller that goes on to read memory the value points to must
 *       synchronize on its own (the allocator reads its segment header's cookie with acquire).</li>
 *   <li>A new leaf is allocated all-{@code NOT_OURS} (fully initialised) and published into its root slot with a
 *       release store before any value is stored in it; {@code lookup} loads the root slot with a plain load,
 *       which is safe because the JVM shows a racily published array with its length and zeroed slots.</li>
 *   <li>Leaves are never unlinked: a leaf stays in its root slot when {@code remove} clears its last mapped
 *       granule, ready for the next insert into its span. Segments are unmapped and mapped again in the same spans
 *       (one leaf covers 64 GiB of 32 MiB segments), and dropping the leaf of a span's last segment made the next
 *       insert allocate and zero a new one: half the time of a huge block's malloc and free. A span's leaf is thus
 *       allocated once, and a slot is only ever read from the one leaf of its span.</li>
 *   <li>During an insert a reader may see some granules of the range mapped and others not yet; during a remove,
 *       some still mapped and others already {@code NOT_OURS}. Granules outside the range never change.</li>
 *   <li>A reader never sees: a value for an address outside every range mapped to that value while the lookup ran
 *       (values are stored only into the slots of their own range's granules, and a slot holds one value or
 *       {@code NOT_OURS}); a torn value (accesses are 64-bit atomic); a value whose remove happened-before the
 *       lookup; {@code NOT_OURS} for a granule whose insert happened-before the lookup and was not removed since.</li>
 * </ul>
 */
public final class AddressMap {

    /** The answer of {@link #lookup(long)} for every address that is not in a mapped range; never a valid value. */
    public static final long NOT_OURS = 0L;

    /**
     * Addresses at or above this ({@code 2^47}), and negative ones, are never ours. Linux gives addresses above
     * {@code 2^47} (5-level paging, "la57") only to {@code mmap} calls whose hint is above {@code 2^47}, and Cairn's
     * segment layer never passes one, so {@code insert} rejects such ranges and {@code lookup} answers
     * {@link #NOT_OURS} for them.
     */
    public static final long USER_ADDRESS_LIMIT = 1L << RadixLayout.USER_ADDRESS_BITS;

    /** Release stores into the root's slots (leaf references); readers load them plainly. */
    private static final VarHandle ROOT_SLOT = MethodHandles.arrayElementVarHandle(long[][].class);

    /** Release stores into a leaf's slots (values); readers load them plainly. */
    private static final VarHandle LEAF_SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    // Copies of layout numbers, read on the lookup path. Final, set in the constructor.
    private final int granuleShift;
    private final int rootShift;
    private final int leafMask;

    /** Leaves by root index, null where no granule of the span is mapped. Slots written under writerLock only. */
    private final long[][] root;

    private final RadixLayout layout;

    /** Serializes writers. Readers never take it. */
    private final ReentrantLock writerLock = new ReentrantLock();

    /** Sentinel window base: with it no key falls inside the window, so every lookup goes to the tree. */
    private static final long WINDOW_UNSET = 1L << 62;

    /**
     * A flat copy of the values of the {@link RadixLayout#WINDOW_LENGTH} granules from {@link #windowBase}: a lookup
     * there is one load instead of two dependent ones. Slots are written under writerLock with release stores, in
     * the same order and with the same values as the tree's slots, so a reader may consult either. Never unlinked.
     */
    private final long[] window = new long[RadixLayout.WINDOW_LENGTH];

    /**
     * First granule key of the window; {@link #WINDOW_UNSET} until the first insert centres the window on it. Written
     * once, under writerLock, before any window slot; a reader that still sees the sentinel asks the tree, which
     * holds every mapping, so a stale read is harmless.
     */
    private long windowBase = WINDOW_UNSET;

    /** Mapped granules in the leaf at each root index. Protected by writerLock. */
    private final int[] leafGranules;

    /** Mapped granules in the whole map. Protected by writerLock. */
    private long mappedGranules;

    /** Non-null root slots. Protected by writerLock. */
    private int leafCount;

    private AddressMap(RadixLayout layout) {
        this.layout = layout;
        this.granuleShift = layout.granuleShift();
        this.rootShift = layout.rootShift();
        this.leafMask = layout.leafMask();
        this.root = new long[layout.rootLength()][];
        this.leafGranules = new int[layout.rootLength()];
    }

    /**
     * An empty map of granules of {@code 2^granuleShift} bytes: the segment size (22..28 for 4..256 MiB).
     *
     * @throws IllegalArgumentException if {@code granuleShift} is outside 16..30
     */
    public static AddressMap create(int granuleShift) {
        return new AddressMap(RadixLayout.forGranuleShift(granuleShift));
    }

    /**
     * The value of the range that contains {@code address}, or {@link #NOT_OURS} for every address in no mapped
     * range (including 0, negative addresses and those at or above {@link #USER_ADDRESS_LIMIT}). Never throws,
     * never allocates, takes no lock.
     */
    public long lookup(long address) {
        // Negative addresses and those above user space give keys far outside the window (it ends below 2^47).
        long slot = (address >>> granuleShift) - windowBase;
        if (Long.compareUnsigned(slot, RadixLayout.WINDOW_LENGTH) < 0) {
            return window[(int) slot]; // plain: partner storeWindowRelease, same rules as loadValue
        }
        return lookupTree(address);
    }

    /** The tree's answer for {@code address} (every mapping is in the tree, inside the window or not). */
    private long lookupTree(long address) {
        long[] leaf = leafOf(address);
        if (leaf == null) {
            return NOT_OURS;
        }
        return loadValue(leaf, (int) (address >>> granuleShift) & leafMask);
    }

    /** The leaf linked for {@code address}, or null: none is, or the address is negative or above user space. */
    private long[] leafOf(long address) {
        if ((address >>> RadixLayout.USER_ADDRESS_BITS) != 0) {
            return null;
        }
        return loadLeaf((int) (address >>> rootShift));
    }

    /**
     * Maps every byte of {@code [base, base + size)} to {@code value}: all of it or, on an exception, none of it.
     *
     * @throws IllegalArgumentException if base or size is not a multiple of the granule, size is not positive, the
     *         range is not inside {@code [granule, USER_ADDRESS_LIMIT)}, or {@code value} is {@link #NOT_OURS}
     * @throws IllegalStateException if a granule of the range is already mapped
     */
    public void insert(long base, long size, long value) {
        checkRange("insert", base, size);
        if (value == NOT_OURS) {
            throw notOursValue("insert", base, size);
        }
        long firstKey = base >>> granuleShift;
        long endKey = firstKey + (size >>> granuleShift);
        writerLock.lock();
        try {
            long clash = firstMappedKey(firstKey, endKey);
            if (clash >= 0) {
                throw alreadyMapped(base, size, value, clash << granuleShift, valueAt(clash));
            }
            long[][] fresh = newLeavesFor(firstKey, endKey); // before any store: running out of memory changes nothing
            int firstRoot = rootIndex(firstKey);
            int lastRoot = rootIndex(endKey - 1);
            for (int r = firstRoot; r <= lastRoot; r++) {
                long[] leaf = root[r]; // plain: root slots are written only under writerLock, which we hold
                if (leaf == null) {
                    leaf = fresh[r - firstRoot];
                    storeLeafRelease(r, leaf);
                    leafCount++;
                }
                int from = r == firstRoot ? leafIndex(firstKey) : 0;
                int to = r == lastRoot ? leafIndex(endKey - 1) : leafMask;
                for (int i = from; i <= to; i++) {
                    storeValueRelease(leaf, i, value);
                }
                leafGranules[r] += to - from + 1;
            }
            mappedGranules += endKey - firstKey;
            if (windowBase == WINDOW_UNSET) {
                long highestBase = ((1L << RadixLayout.USER_ADDRESS_BITS) >>> granuleShift) - window.length;
                windowBase = Math.max(1, Math.min(firstKey - window.length / 2, highestBase));
            }
            mirror(firstKey, endKey, value);
        } finally {
            writerLock.unlock();
        }
    }

    /**
     * Unmaps {@code [base, base + size)}, every granule of which must map to one same value, and returns that value.
     * Leaves left empty stay allocated for the next insert into their span.
     *
     * @throws IllegalArgumentException for a malformed range, as for {@link #insert(long, long, long)}
     * @throws IllegalStateException if a granule of the range is unmapped or maps to a different value than the
     *         first; the map is then unchanged
     */
    public long remove(long base, long size) {
        checkRange("remove", base, size);
        long firstKey = base >>> granuleShift;
        long endKey = firstKey + (size >>> granuleShift);
        writerLock.lock();
        try {
            long value = oneValue("remove", base, size, firstKey, endKey);
            int firstRoot = rootIndex(firstKey);
            int lastRoot = rootIndex(endKey - 1);
            for (int r = firstRoot; r <= lastRoot; r++) {
                long[] leaf = root[r]; // plain: we hold writerLock; non-null since its granules are mapped
                int from = r == firstRoot ? leafIndex(firstKey) : 0;
                int to = r == lastRoot ? leafIndex(endKey - 1) : leafMask;
                for (int i = from; i <= to; i++) {
                    storeValueRelease(leaf, i, NOT_OURS);
                }
                leafGranules[r] -= to - from + 1; // an emptied leaf stays linked: see the class comment
            }
            mappedGranules -= endKey - firstKey;
            mirror(firstKey, endKey, NOT_OURS);
            return value;
        } finally {
            writerLock.unlock();
        }
    }

    /**
     * Maps {@code [base, base + size)}, every granule of which must map to one same value, to {@code value} instead,
     * and returns the value it replaced. Each granule changes with one store: a concurrent lookup sees the old value
     * or the new one, never {@link #NOT_OURS} (a remove and an insert would show it the range unmapped in between).
     *
     * @throws IllegalArgumentException for a malformed range, as for {@link #insert(long, long, long)}, or if
     *         {@code value} is {@link #NOT_OURS}
     * @throws IllegalStateException if a granule of the range is unmapped or maps to a different value than the
     *         first; the map is then unchanged
     */
    public long replace(long base, long size, long value) {
        checkRange("replace", base, size);
        if (value == NOT_OURS) {
            throw notOursValue("replace", base, size);
        }
        long firstKey = base >>> granuleShift;
        long endKey = firstKey + (size >>> granuleShift);
        writerLock.lock();
        try {
            long old = oneValue("replace", base, size, firstKey, endKey);
            for (long key = firstKey; key < endKey; key++) {
                storeValueRelease(root[rootIndex(key)], leafIndex(key), value); // non-null: the granule is mapped
            }
            mirror(firstKey, endKey, value);
            return old;
        } finally {
            writerLock.unlock();
        }
    }

    /** The one value every key of {@code [firstKey, endKey)} maps to; throws naming {@code op} otherwise (locked). */
    private long oneValue(String op, long base, long size, long firstKey, long endKey) {
        long value = valueAt(firstKey);
        for (long key = firstKey; key < endKey; key++) {
            long found = valueAt(key);
            if (found != value || found == NOT_OURS) {
                throw notOneRange(op, base, size, key << granuleShift, found, value);
            }
        }
        return value;
    }

    /** Copies {@code value} into the window slots of the keys in {@code [firstKey, endKey)} it covers. */
    private void mirror(long firstKey, long endKey, long value) {
        long from = Math.max(firstKey, windowBase);
        long to = Math.min(endKey, windowBase + window.length);
        for (long key = from; key < to; key++) {
            storeWindowRelease((int) (key - windowBase), value);
        }
    }

    /** Release; partner: the plain window load in {@link #lookup} (same contract as {@link #storeValueRelease}). */
    private void storeWindowRelease(int slot, long value) {
        LEAF_SLOT.setRelease(window, slot, value);
    }

    /** Log2 of the granule size in bytes. */
    public int granuleShift() {
        return granuleShift;
    }

    /** Granules currently mapped. */
    public long mappedGranules() {
        writerLock.lock();
        try {
            return mappedGranules;
        } finally {
            writerLock.unlock();
        }
    }

    /**
     * Leaves allocated: one per leaf span ({@link RadixLayout#leafSpan()}) that has held a mapped granule since this
     * map was made (leaves are kept when emptied: see the class comment).
     */
    public int leafCount() {
        writerLock.lock();
        try {
            return leafCount;
        } finally {
            writerLock.unlock();
        }
    }

    /**
     * Estimated bytes of the arrays this map holds: root, per-leaf counters and leaves (object headers of 16 bytes,
     * references counted as 8 bytes: exact without compressed oops, an upper bound with them).
     */
    public long memoryBytes() {
        writerLock.lock();
        try {
            return layout.rootBytes() + layout.leafCountersBytes() + layout.windowBytes()
                    + leafCount * layout.leafBytes();
        } finally {
            writerLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "AddressMap[granule=0x" + Long.toHexString(layout.granuleSize()) + ", mappedGranules="
                + mappedGranules() + ", leaves=" + leafCount() + "]";
    }

    /**
     * Checks the counters against the leaves: each leaf's count is its number of non-{@code NOT_OURS} slots and not
     * zero, and the totals agree. Walks every leaf; for tests and debug levels that walk structures.
     *
     * @throws IllegalStateException naming the first mismatch
     */
    void validate() {
        writerLock.lock();
        try {
            long total = 0;
            int leaves = 0;
            for (int r = 0; r < root.length; r++) {
                long[] leaf = root[r];
                int mapped = 0;
                if (leaf != null) {
                    leaves++;
                    for (long value : leaf) {
                        mapped += value != NOT_OURS ? 1 : 0;
                    }
                }
                if (mapped != leafGranules[r]) {
                    throw new IllegalStateException("root index " + r + ": counter " + leafGranules[r]
                            + " but " + mapped + " mapped granules");
                }
                total += mapped;
            }
            for (int slot = 0; slot < window.length && windowBase != WINDOW_UNSET; slot++) {
                if (window[slot] != valueAt(windowBase + slot)) {
                    throw new IllegalStateException("window slot " + slot + " holds " + window[slot]
                            + " but the tree maps that granule to " + valueAt(windowBase + slot));
                }
            }
            if (total != mappedGranules || leaves != leafCount) {
                throw new IllegalStateException("totals: counters say " + mappedGranules + " granules in " + leafCount
                        + " leaves, the leaves hold " + total + " in " + leaves);
            }
        } finally {
            writerLock.unlock();
        }
    }

    // ---- tree walking for writers (callers hold writerLock, so plain loads see every earlier write) ----

    private int rootIndex(long key) {
        return (int) (key >>> layout.leafBits());
    }

    private int leafIndex(long key) {
        return (int) key & leafMask;
    }

    private long valueAt(long key) {
        long[] leaf = root[rootIndex(key)];
        return leaf == null ? NOT_OURS : leaf[leafIndex(key)];
    }

    /** The first key in {@code [firstKey, endKey)} whose granule is mapped, or -1. Skips absent leaves whole. */
    private long firstMappedKey(long firstKey, long endKey) {
        long key = firstKey;
        while (key < endKey) {
            long[] leaf = root[rootIndex(key)];
            long leafEnd = Math.min(endKey, (key | leafMask) + 1);
            if (leaf != null) {
                for (; key < leafEnd; key++) {
                    if (leaf[leafIndex(key)] != NOT_OURS) {
                        return key;
                    }
                }
            }
            key = leafEnd;
        }
        return -1;
    }

    /** New leaves for the absent root slots of {@code [firstKey, endKey)}, indexed from the first root index. */
    private long[][] newLeavesFor(long firstKey, long endKey) {
        int firstRoot = rootIndex(firstKey);
        int lastRoot = rootIndex(endKey - 1);
        long[][] fresh = new long[lastRoot - firstRoot + 1][];
        for (int r = firstRoot; r <= lastRoot; r++) {
            if (root[r] == null) {
                fresh[r - firstRoot] = new long[layout.leafLength()]; // every slot NOT_OURS (0)
            }
        }
        return fresh;
    }

    // ---- the only accesses to shared slots; each names its partner ----

    /**
     * Plain load of a root slot (partner: {@link #storeLeafRelease}). A new leaf is published all-zero, and the JVM
     * guarantees a racily seen array its length and default values, so no acquire is needed to read it safely.
     */
    private long[] loadLeaf(int rootIndex) {
        return root[rootIndex];
    }

    /** Release; partner: {@link #loadLeaf} (publish a zeroed leaf). */
    private void storeLeafRelease(int rootIndex, long[] leaf) {
        ROOT_SLOT.setRelease(root, rootIndex, leaf);
    }

    /**
     * Plain ("dependent") load of a value (partner: {@link #storeValueRelease}). It sees every insert and remove
     * that happened-before the lookup, but does not by itself order the caller's later reads after the inserter's
     * earlier writes: a caller that reads memory the value points to synchronizes on its own (the allocator reads
     * the segment header's cookie, stored last with release, with acquire). A 64-bit plain load is one
     * instruction on the 64-bit JVMs Cairn runs on, so it is never torn.
     */
    private static long loadValue(long[] leaf, int leafIndex) {
        return leaf[leafIndex];
    }

    /** Release; partner: {@link #loadValue}, and the acquire of whatever the caller reads through the value. */
    private static void storeValueRelease(long[] leaf, int leafIndex, long value) {
        LEAF_SLOT.setRelease(leaf, leafIndex, value);
    }

    // ---- argument checks and the exceptions they throw ----

    private void checkRange(String op, long base, long size) {
        long granule = layout.granuleSize();
        if (size <= 0) {
            throw badRange(op, base, size, "size must be positive");
        }
        if (base < 0) {
            throw badRange(op, base, size, "a negative base is never a user-space address");
        }
        if (base >= USER_ADDRESS_LIMIT || size > USER_ADDRESS_LIMIT - base) {
            throw badRange(op, base, size, "the range must lie below USER_ADDRESS_LIMIT 0x"
                    + Long.toHexString(USER_ADDRESS_LIMIT) + " (2^47): Linux returns higher addresses only to mmap"
                    + " calls with a hint above 2^47, which Cairn never makes" + la57Note());
        }
        if (((base | size) & (granule - 1)) != 0) {
            throw badRange(op, base, size, "base and size must be multiples of the granule 0x"
                    + Long.toHexString(granule));
        }
        if (base == 0) {
            throw badRange(op, base, size, "the granule at address 0 (the null pointer) is never mapped");
        }
    }

    private static IllegalArgumentException badRange(String op, long base, long size, String why) {
        return new IllegalArgumentException("cannot " + op + " base 0x" + Long.toHexString(base) + " size 0x"
                + Long.toHexString(size) + ": " + why);
    }

    private static IllegalArgumentException notOursValue(String op, long base, long size) {
        return new IllegalArgumentException("cannot " + op + " " + range(base, size) + ": the value must not be NOT_OURS"
                + " (0x0)");
    }

    private static IllegalStateException alreadyMapped(long base, long size, long value, long clashAddr,
            long clashValue) {
        return new IllegalStateException("cannot insert " + range(base, size) + " -> 0x" + Long.toHexString(value)
                + ": granule 0x" + Long.toHexString(clashAddr) + " is already mapped to 0x"
                + Long.toHexString(clashValue) + "; nothing was changed");
    }

    private static IllegalStateException notOneRange(String op, long base, long size, long granuleAddr, long found,
            long expected) {
        String why = found == NOT_OURS
                ? "granule 0x" + Long.toHexString(granuleAddr) + " is not mapped"
                : "granule 0x" + Long.toHexString(granuleAddr) + " maps to 0x" + Long.toHexString(found)
                        + " but granule 0x" + Long.toHexString(base) + " maps to 0x" + Long.toHexString(expected);
        return new IllegalStateException("cannot " + op + " " + range(base, size) + ": " + why + "; nothing was changed");
    }

    private static String range(long base, long size) {
        return "[0x" + Long.toHexString(base) + ", 0x" + Long.toHexString(base + size) + ")";
    }

    /** A note for error messages when the CPU can do 5-level paging; empty when not, or when we cannot tell. */
    private static String la57Note() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            boolean la57 = lines.filter(line -> line.startsWith("flags"))
                    .findFirst()
                    .map(line -> (line + " ").contains(" la57 "))
                    .orElse(false);
            return la57 ? " (this CPU supports 5-level paging, la57, so the kernel may be able to map such"
                    + " addresses, but only on request)" : "";
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return "";
        }
    }
}
