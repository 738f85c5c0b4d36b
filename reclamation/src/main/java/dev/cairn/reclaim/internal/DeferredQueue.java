package dev.cairn.reclaim.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongConsumer;

/**
 * A FIFO of deferred work, each item tagged with the goal after which it may run: an address to free or a task.
 *
 * <p>Confinement: a queue belongs to one thread at a time, first its registered owner, then (after the owner
 * unregisters or dies) whichever thread took it from the domain's orphan list under the domain lock. Nothing in
 * here synchronizes; the counters are published with opaque stores only so that {@code stats()} on another thread
 * reads whole, recent values.
 *
 * <p>Layout: a ring of items, capacity a power of two, doubling when full and shrinking back when it empties after
 * a burst. Goal, address and size of item {@code i} sit side by side in {@code words[3i..3i+2]} (one cache line
 * covers two or three items); tasks live in a parallel array allocated only once a task is queued.
 *
 * <p>Goals never decrease from head to tail: {@link #push} raises a goal to the previous one when needed (a later
 * goal is always safe, only later), so processing stops at the first item whose goal is not reached.
 *
 * <p>Invariants: {@code 0 <= size <= capacity}; {@code bytes <= peakBytes}; between calls, {@code bytes == sum of
 * the sizes of the queued items} ({@link #runReached} publishes {@code bytes} and the processing counters once, at
 * its end); items are popped before they run, so a failing free leaves the queue consistent.
 */
public final class DeferredQueue {

    /** Counter indices; see {@link #counter(int)}. */
    public static final int BYTES = 0;
    public static final int ITEMS = 1;
    public static final int PEAK_BYTES = 2;
    public static final int PROCESSED_ITEMS = 3;
    public static final int PROCESSED_BYTES = 4;
    public static final int FORCED_ADVANCES = 5;
    public static final int LIMIT_OVERRUNS = 6;
    /** Queued items that are addresses (not tasks): what the domain's free function has still to free. */
    public static final int ADDRESSES = 7;
    static final int COUNTERS = 8;

    private static final VarHandle COUNTER = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int MIN_CAPACITY = 16;
    private static final int SHRINK_CAPACITY = 4096;

    private long[] words;        // per item: goal, address, size
    private Runnable[] tasks;    // null until the first task; then parallel to the items
    private int capacity;
    private int head;
    private int size;
    private long lastGoal = Seq.OFFLINE;
    private final long[] counters = new long[COUNTERS];

    public DeferredQueue() {
        allocate(MIN_CAPACITY);
    }

    /**
     * Appends an item. {@code task == null} means "free {@code address}". The goal is raised to the previous
     * item's goal if it is lower, so goals stay monotone.
     */
    public void push(long goal, long address, long sizeBytes, Runnable task) {
        if (size == capacity) {
            resize(capacity * 2);
        }
        long g = Math.max(goal, lastGoal);
        int i = (head + size) & (capacity - 1);
        int w = 3 * i;
        words[w] = g;
        words[w + 1] = address;
        words[w + 2] = sizeBytes;
        if (task != null) {
            if (tasks == null) {
                tasks = new Runnable[capacity];
            }
            tasks[i] = task;
        } else {
            set(ADDRESSES, counters[ADDRESSES] + 1);
        }
        size++;
        lastGoal = g;
        long bytes = counters[BYTES] + sizeBytes;
        set(BYTES, bytes);
        set(ITEMS, size);
        if (bytes > counters[PEAK_BYTES]) {
            set(PEAK_BYTES, bytes);
        }
    }

    /** The goal of the oldest item, or {@link Seq#NEVER} when empty. */
    public long headGoal() {
        return size == 0 ? Seq.NEVER : words[3 * head];
    }

    /** The goal of the newest item ever pushed ({@link Seq#OFFLINE} before the first). */
    public long lastGoal() {
        return lastGoal;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public int size() {
        return size;
    }

    /** Bytes of the queued items (owner's view). */
    public long bytes() {
        return counters[BYTES];
    }

    /**
     * Pops and runs, oldest first, every item whose goal is at most {@code reached}; stops at the first that is
     * not. Addresses go to {@code free}. Returns how many items ran. An exception from an item propagates after
     * that item has left the queue; later items stay queued.
     */
    public int runReached(long reached, LongConsumer free) {
        int ran = 0;
        int ranTasks = 0;
        long ranBytes = 0;
        try {
            while (size > 0 && words[3 * head] <= reached) {
                int i = head;
                long address = words[3 * i + 1];
                long sizeBytes = words[3 * i + 2];
                Runnable task = null;
                if (tasks != null && tasks[i] != null) {
                    task = tasks[i];
                    tasks[i] = null;
                }
                head = (i + 1) & (capacity - 1);
                size--;
                ran++;
                ranBytes += sizeBytes;
                if (task != null) {
                    ranTasks++;
                    task.run();
                } else {
                    free.accept(address);
                }
            }
        } finally {
            // published once per run, not per item; the item that threw (if any) has left and counts as run
            set(BYTES, counters[BYTES] - ranBytes);
            set(ITEMS, size);
            set(ADDRESSES, counters[ADDRESSES] - (ran - ranTasks));
            set(PROCESSED_ITEMS, counters[PROCESSED_ITEMS] + ran);
            set(PROCESSED_BYTES, counters[PROCESSED_BYTES] + ranBytes);
        }
        if (size == 0 && capacity >= SHRINK_CAPACITY) {
            allocate(MIN_CAPACITY);
        }
        return ran;
    }

    /** Adds one to a policy counter ({@link #FORCED_ADVANCES}, {@link #LIMIT_OVERRUNS}); owner only. */
    public void count(int counter) {
        set(counter, counters[counter] + 1);
    }

    /** A counter as last published (opaque read); safe from any thread. */
    public long counter(int counter) {
        return (long) COUNTER.getOpaque(counters, counter);
    }

    private void set(int counter, long value) {
        COUNTER.setOpaque(counters, counter, value);
    }

    private void allocate(int newCapacity) {
        capacity = newCapacity;
        words = new long[3 * newCapacity];
        tasks = null;
        head = 0;
    }

    private void resize(int newCapacity) {
        long[] w = new long[3 * newCapacity];
        Runnable[] t = tasks == null ? null : new Runnable[newCapacity];
        for (int k = 0; k < size; k++) {
            int i = (head + k) & (capacity - 1);
            System.arraycopy(words, 3 * i, w, 3 * k, 3);
            if (t != null) {
                t[k] = tasks[i];
            }
        }
        words = w;
        tasks = t;
        capacity = newCapacity;
        head = 0;
    }
}
