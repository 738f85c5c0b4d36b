package dev.cairn.reclaim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Off-heap nodes for the reclamation tests: fixed-size blocks carved from one shared arena, handed out from a
 * free list. {@link #free} writes {@link #POISON} over the whole node before the node goes back on the list, so a
 * reader that touches freed memory sees poison (or, once the node is reused, another node's contents).
 *
 * <p>A node of id {@code n} holds {@code n} in word 0 and {@link #expected}{@code (n, i)} in word {@code i}.
 * Addresses are absolute ({@code segment.address() + offset}); reads go through the pool's segment.
 */
final class NodePool implements AutoCloseable {

    static final int WORDS = 16;
    static final long NODE_BYTES = WORDS * Long.BYTES;
    static final long POISON = 0xDEAD_DEAD_DEAD_DEADL;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final long base;
    private final long[] free;
    private int freeCount;

    NodePool(int nodes) {
        memory = arena.allocate(nodes * NODE_BYTES, 64);
        base = memory.address();
        free = new long[nodes];
        for (int i = nodes - 1; i >= 0; i--) {
            long address = base + i * NODE_BYTES;
            poison(address);
            free[freeCount++] = address;
        }
    }

    static long expected(long id, int word) {
        return word == 0 ? id : id * 0x9E37_79B9_7F4A_7C15L + word;
    }

    /** A free node, or 0 if the pool is empty. */
    synchronized long allocate() {
        return freeCount == 0 ? 0 : free[--freeCount];
    }

    /** Poisons the node and returns it to the pool (the tests' "free function"). */
    void free(long address) {
        poison(address);
        synchronized (this) {
            free[freeCount++] = address;
        }
    }

    synchronized int available() {
        return freeCount;
    }

    void fill(long address, long id) {
        for (int w = 0; w < WORDS; w++) {
            memory.set(ValueLayout.JAVA_LONG, offset(address, w), expected(id, w));
        }
    }

    long read(long address, int word) {
        return memory.get(ValueLayout.JAVA_LONG, offset(address, word));
    }

    /**
     * Reads a whole node: 0 if it is intact, 1 if any word is poison, 2 if it is intact-looking but inconsistent
     * (reused for another id while we read).
     */
    int check(long address) {
        long id = read(address, 0);
        if (id == POISON) {
            return 1;
        }
        for (int w = 1; w < WORDS; w++) {
            long v = read(address, w);
            if (v == POISON) {
                return 1;
            }
            if (v != expected(id, w)) {
                return 2;
            }
        }
        return 0;
    }

    private void poison(long address) {
        for (int w = 0; w < WORDS; w++) {
            memory.set(ValueLayout.JAVA_LONG, offset(address, w), POISON);
        }
    }

    private long offset(long address, int word) {
        return address - base + (long) word * Long.BYTES;
    }

    @Override
    public void close() {
        arena.close();
    }
}
