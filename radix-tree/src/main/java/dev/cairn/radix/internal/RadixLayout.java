package dev.cairn.radix.internal;

/**
 * The shape of an address map's two-level tree for one granule size: pure arithmetic, no state.
 *
 * <p>An address {@code a} with {@code 0 <= a < 2^47} is split like this (most significant bit on the left):
 * <pre>
 *   46                                                   0
 *   +--------------+--------------+----------------------+
 *   |  root index  |  leaf index  |   offset in granule  |
 *   +--------------+--------------+----------------------+
 *     rootBits       leafBits       granuleShift
 *   |<------- key = a >>> granuleShift ------->|
 * </pre>
 * The key has {@code 47 - granuleShift} significant bits. The leaf gets the lower half (rounded down) and the root
 * the rest, so both arrays stay in the tens of KiB for every segment size Cairn uses:
 *
 * <table>
 *   <caption>Layout per granule (segment) size; "span" is the address range one leaf covers</caption>
 *   <tr><th>granule</th><th>shift</th><th>key bits</th><th>root bits</th><th>leaf bits</th>
 *       <th>root slots</th><th>leaf longs (bytes)</th><th>span</th></tr>
 *   <tr><td>64 KiB</td><td>16</td><td>31</td><td>16</td><td>15</td><td>65536</td><td>32768 (256 KiB)</td>
 *       <td>2 GiB</td></tr>
 *   <tr><td>4 MiB</td><td>22</td><td>25</td><td>13</td><td>12</td><td>8192</td><td>4096 (32 KiB)</td>
 *       <td>16 GiB</td></tr>
 *   <tr><td>8 MiB</td><td>23</td><td>24</td><td>12</td><td>12</td><td>4096</td><td>4096 (32 KiB)</td>
 *       <td>32 GiB</td></tr>
 *   <tr><td>16 MiB</td><td>24</td><td>23</td><td>12</td><td>11</td><td>4096</td><td>2048 (16 KiB)</td>
 *       <td>32 GiB</td></tr>
 *   <tr><td>32 MiB</td><td>25</td><td>22</td><td>11</td><td>11</td><td>2048</td><td>2048 (16 KiB)</td>
 *       <td>64 GiB</td></tr>
 *   <tr><td>64 MiB</td><td>26</td><td>21</td><td>11</td><td>10</td><td>2048</td><td>1024 (8 KiB)</td>
 *       <td>64 GiB</td></tr>
 *   <tr><td>128 MiB</td><td>27</td><td>20</td><td>10</td><td>10</td><td>1024</td><td>1024 (8 KiB)</td>
 *       <td>128 GiB</td></tr>
 *   <tr><td>256 MiB</td><td>28</td><td>19</td><td>10</td><td>9</td><td>1024</td><td>512 (4 KiB)</td>
 *       <td>128 GiB</td></tr>
 *   <tr><td>1 GiB</td><td>30</td><td>17</td><td>9</td><td>8</td><td>512</td><td>256 (2 KiB)</td>
 *       <td>256 GiB</td></tr>
 * </table>
 *
 * <p>Why the leaf takes the smaller half: the root is allocated once, leaves once per populated span, so for a
 * scattered address space smaller leaves waste less; and a root slot is a reference (4 bytes with compressed oops)
 * where a leaf slot is a {@code long}.
 *
 * <p>Memory estimates ({@link #rootBytes()}, {@link #leafBytes()}) assume a 16-byte array header and 8-byte
 * references. That is exact without compressed oops and an upper bound with them (the root then takes half).
 */
public record RadixLayout(int granuleShift, int rootBits, int leafBits) {

    /** Significant bits of a user-space address on x86-64 and AArch64 Linux with 4-level paging. */
    public static final int USER_ADDRESS_BITS = 47;

    /** Smallest granule: 64 KiB. Smaller granules would make the tree large; nothing in Cairn needs them. */
    public static final int MIN_GRANULE_SHIFT = 16;

    /** Largest granule: 1 GiB. */
    public static final int MAX_GRANULE_SHIFT = 30;

    /**
     * Granules mirrored in the address map's flat window (see {@code AddressMap}): 4,096, i.e. 128 GiB of address
     * space at 32 MiB granules, where Linux's top-down {@code mmap} puts a process's segments next to each other.
     */
    public static final int WINDOW_LENGTH = 1 << 12;

    /** Bytes of a Java array header, for {@link #rootBytes()} and {@link #leafBytes()}. */
    public static final int ARRAY_HEADER_BYTES = 16;

    /** Bytes of a reference in an array, without compressed oops (so an upper bound with them). */
    public static final int REFERENCE_BYTES = 8;

    public RadixLayout {
        if (granuleShift < MIN_GRANULE_SHIFT || granuleShift > MAX_GRANULE_SHIFT) {
            throw badGranuleShift(granuleShift);
        }
        if (rootBits < 1 || leafBits < 1 || rootBits + leafBits + granuleShift != USER_ADDRESS_BITS) {
            throw new IllegalArgumentException("root bits " + rootBits + " + leaf bits " + leafBits
                    + " + granule shift " + granuleShift + " must be " + USER_ADDRESS_BITS + ", each at least 1");
        }
    }

    /** The layout Cairn uses for granules of {@code 2^granuleShift} bytes: the key bits split as in the table. */
    public static RadixLayout forGranuleShift(int granuleShift) {
        if (granuleShift < MIN_GRANULE_SHIFT || granuleShift > MAX_GRANULE_SHIFT) {
            throw badGranuleShift(granuleShift);
        }
        int keyBits = USER_ADDRESS_BITS - granuleShift;
        int leafBits = keyBits / 2;
        return new RadixLayout(granuleShift, keyBits - leafBits, leafBits);
    }

    /** Bytes per granule. */
    public long granuleSize() {
        return 1L << granuleShift;
    }

    /** Significant bits of a key ({@code address >>> granuleShift}). */
    public int keyBits() {
        return rootBits + leafBits;
    }

    /** Right shift that turns an address into its root index. */
    public int rootShift() {
        return granuleShift + leafBits;
    }

    /** Slots in the root array. */
    public int rootLength() {
        return 1 << rootBits;
    }

    /** Slots in each leaf array. */
    public int leafLength() {
        return 1 << leafBits;
    }

    /** Mask that turns a key into its leaf index. */
    public int leafMask() {
        return (1 << leafBits) - 1;
    }

    /** Bytes of address space one leaf covers. */
    public long leafSpan() {
        return 1L << rootShift();
    }

    /** Estimated bytes of the root array (see the class comment for the assumptions). */
    public long rootBytes() {
        return ARRAY_HEADER_BYTES + (long) rootLength() * REFERENCE_BYTES;
    }

    /** Bytes of the flat window ({@link #WINDOW_LENGTH} values). */
    public long windowBytes() {
        return ARRAY_HEADER_BYTES + (long) WINDOW_LENGTH * Long.BYTES;
    }

    /** Bytes of one per-root-slot {@code int} counter array (the map's count of mapped granules per leaf). */
    public long leafCountersBytes() {
        return ARRAY_HEADER_BYTES + (long) rootLength() * Integer.BYTES;
    }

    /** Bytes of one leaf array. */
    public long leafBytes() {
        return ARRAY_HEADER_BYTES + (long) leafLength() * Long.BYTES;
    }

    private static IllegalArgumentException badGranuleShift(int granuleShift) {
        return new IllegalArgumentException("granule shift " + granuleShift + " is outside [" + MIN_GRANULE_SHIFT
                + ", " + MAX_GRANULE_SHIFT + "] (64 KiB to 1 GiB granules; Cairn segments use 22..28)");
    }
}
