package dev.cairn.alloc.internal;

import java.util.Arrays;

/**
 * A set of page descriptor addresses: open addressing with linear probing in one {@code long[]}, 0 marking an empty
 * slot (no descriptor lives at address 0), deletion by shifting later entries of the probe run back. The page pool's
 * membership test ({@link PagePool}): a {@code HashMap} of boxed keys cost an object or two per page and a pointer
 * chase per lookup on every page handed over and taken back. Not thread-safe: its owner locks.
 */
final class PageSet {

    private static final int MIN_CAPACITY = 64;

    private long[] table = new long[MIN_CAPACITY];
    private int size;

    /**
     * Fibonacci hashing of the address's high half: descriptors sit 128 bytes apart, so the low bits are alike and
     * only a multiply that carries every bit into the top ones spreads them.
     */
    private static int home(long page, int mask) {
        return (int) ((page * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }

    int size() {
        return size;
    }

    boolean contains(long page) {
        return indexOf(page) >= 0;
    }

    /** Adds {@code page} (not 0); false when it was there already. */
    boolean add(long page) {
        if (page == 0) {
            throw new IllegalArgumentException("page 0");
        }
        if (2 * (size + 1) > table.length) {
            rehash(table.length * 2);
        }
        int i = probe(page);
        if (table[i] == page) {
            return false;
        }
        table[i] = page;
        size++;
        return true;
    }

    /** Removes {@code page}; false when it was not there. */
    boolean remove(long page) {
        int hole = indexOf(page);
        if (hole < 0) {
            return false;
        }
        int mask = table.length - 1;
        // Shift back every later entry of the run that may move into the hole (its home is not between the hole and
        // it, cyclically), so that lookups, which stop at the first empty slot, still find it.
        for (int i = (hole + 1) & mask; table[i] != 0; i = (i + 1) & mask) {
            int h = home(table[i], mask);
            if (((i - h) & mask) >= ((i - hole) & mask)) {
                table[hole] = table[i];
                hole = i;
            }
        }
        table[hole] = 0;
        size--;
        return true;
    }

    /** The pages in the set, in no particular order. */
    long[] toArray() {
        long[] out = new long[size];
        int n = 0;
        for (long page : table) {
            if (page != 0) {
                out[n++] = page;
            }
        }
        return out;
    }

    private int indexOf(long page) {
        if (page == 0) {
            return -1;
        }
        int i = probe(page);
        return table[i] == page ? i : -1;
    }

    /** The slot holding {@code page}, or else the empty slot that ends its probe run (where it would go). */
    private int probe(long page) {
        int mask = table.length - 1;
        int i = home(page, mask);
        while (table[i] != page && table[i] != 0) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void rehash(int capacity) {
        long[] old = table;
        table = new long[capacity];
        for (long page : old) {
            if (page != 0) {
                table[probe(page)] = page;
            }
        }
    }

    @Override
    public String toString() {
        long[] pages = toArray();
        Arrays.sort(pages);
        return "PageSet" + Arrays.toString(pages);
    }
}
