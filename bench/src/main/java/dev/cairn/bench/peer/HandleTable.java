package dev.cairn.bench.peer;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Gives objects (a {@code ByteBuf}, a {@code byte[]}) a {@code long} handle, so that peers which hand out objects
 * run the very same workload code as peers which hand out addresses. Every object peer pays this table, and only
 * object peers do: an array store and a free-slot push per block, no lock and no CAS on the common path.
 *
 * <p>Slots live in chunks of {@value #CHUNK} created on demand (a CAS each, once). Each thread's {@link Local} keeps
 * its own stack of free slots: a handle freed by another thread becomes a free slot of the freeing thread, as glibc's
 * tcache does with blocks. A stack that grows past {@value #LOCAL_MAX} (consumers in producer/consumer workloads)
 * donates half to a shared queue, where slot-hungry threads look before they take fresh slots; so the table stays
 * as large as the number of live objects, not the number ever allocated. Handles are slot + 1: 0 is never a handle.
 *
 * <p>Memory visibility: the table adds none. A handle crosses threads only through the workload's own hand-over
 * (a queue, a thread start, an atomic exchange), which orders the slot's write before the other thread's read.
 */
final class HandleTable<T> {
    static final int CHUNK_SHIFT = 12;
    static final int CHUNK = 1 << CHUNK_SHIFT;
    static final int MAX_CHUNKS = 1 << 15; // 128 M slots
    static final int FRESH_BATCH = 256;
    static final int LOCAL_MAX = 8192;

    private final AtomicReferenceArray<Object[]> chunks = new AtomicReferenceArray<>(MAX_CHUNKS);
    private final AtomicLong nextFresh = new AtomicLong();
    private final ConcurrentLinkedQueue<int[]> donated = new ConcurrentLinkedQueue<>();

    Local local() {
        return new Local();
    }

    /** Slots ever handed out fresh: what the table grew to (tests check it stays near the live count). */
    long slotsCreated() {
        return nextFresh.get();
    }

    private Object[] chunk(int slot) {
        return chunks.get(slot >>> CHUNK_SHIFT);
    }

    private void ensureChunk(int index) {
        if (index >= MAX_CHUNKS) {
            throw new IllegalStateException("handle table full: more than " + (long) MAX_CHUNKS * CHUNK + " objects");
        }
        if (chunks.get(index) == null) {
            chunks.compareAndSet(index, null, new Object[CHUNK]);
        }
    }

    /** One thread's access to the table: use from that thread only. */
    final class Local {
        private int[] free = new int[FRESH_BATCH];
        private int count;

        long put(T object) {
            int slot = take();
            chunk(slot)[slot & (CHUNK - 1)] = object;
            return slot + 1L;
        }

        @SuppressWarnings("unchecked")
        T get(long handle) {
            int slot = (int) (handle - 1);
            return (T) chunk(slot)[slot & (CHUNK - 1)];
        }

        /** The object under {@code handle}, and the slot back to this thread's free stack. */
        T remove(long handle) {
            int slot = (int) (handle - 1);
            Object[] chunk = chunk(slot);
            @SuppressWarnings("unchecked")
            T object = (T) chunk[slot & (CHUNK - 1)];
            if (object == null) {
                throw new IllegalStateException("handle " + handle + " is not live (double free?)");
            }
            chunk[slot & (CHUNK - 1)] = null;
            push(slot);
            return object;
        }

        /** Hands every cached slot to the shared queue (the thread is done). */
        void donateAll() {
            if (count > 0) {
                donated.add(Arrays.copyOf(free, count));
                count = 0;
            }
        }

        private int take() {
            if (count == 0) {
                refill();
            }
            return free[--count];
        }

        private void push(int slot) {
            if (count == free.length) {
                if (count >= LOCAL_MAX) {
                    int half = count / 2;
                    donated.add(Arrays.copyOfRange(free, count - half, count));
                    count -= half;
                } else {
                    free = Arrays.copyOf(free, count * 2);
                }
            }
            free[count++] = slot;
        }

        private void refill() {
            int[] batch = donated.poll();
            if (batch != null) {
                if (batch.length > free.length) {
                    free = Arrays.copyOf(free, batch.length);
                }
                System.arraycopy(batch, 0, free, 0, batch.length);
                count = batch.length;
                return;
            }
            long first = nextFresh.getAndAdd(FRESH_BATCH);
            if (first + FRESH_BATCH > (long) MAX_CHUNKS * CHUNK) {
                throw new IllegalStateException("handle table full: more than " + (long) MAX_CHUNKS * CHUNK
                        + " objects");
            }
            ensureChunk((int) (first >>> CHUNK_SHIFT));
            ensureChunk((int) ((first + FRESH_BATCH - 1) >>> CHUNK_SHIFT));
            // Pushed highest first, so the lowest slot is taken first.
            for (int i = FRESH_BATCH - 1; i >= 0; i--) {
                free[count++] = (int) (first + i);
            }
        }
    }
}
