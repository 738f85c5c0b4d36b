package dev.cairn.runtime;

import java.util.Arrays;

/**
 * A thread state's memo of the objects its checked calls have proven ({@link Objs#check}): a small direct-mapped
 * table of addresses, each a live object of the thread's interpreter that the thread owns (its {@code OB_TID} is the
 * thread state's id) or an immortal. A hit skips the allocator's proof ({@code Allocator.isLive}) and the header
 * checks: the owner's checked {@code Ref.incref}/{@code decref} on objects it keeps using then cost little more than
 * unchecked ones (docs/benchmarks.md, "The owner's proven objects").
 *
 * <h2>Why a hit is still a proof</h2>
 * An address is added only right after a full proof, and only for an object the thread owns or an immortal. An owned
 * object stops being live or owned in exactly these places, and each one takes it out:
 * <ul>
 *   <li>by the owner itself: its dealloc ({@link Objs#free}), or its local count reaching zero while other
 *       references are out, when it gives up the bias ({@code BiasedRc.mergeZeroLocal});
 *   <li>by a thread that merges the owner's queue ({@link BrcQueues#drain}): the owner at a checkpoint, another
 *       thread while it holds the detached owner in MERGING, or the cycle collector with the world stopped; each
 *       merged object is forgotten in the owner's memo before it can die;
 *   <li>by the cycle collector, which frees objects of every thread with the world stopped and then clears every memo
 *       of the interpreter ({@link Gc#collect}).
 * </ul>
 * Nothing else frees an object that a live thread state owns: other threads' decrefs go through the shared count and
 * the owner's queue. Immortals die only with the runtime, after every thread state is closed.
 *
 * <p>A hit also stands for the thread state's own checks: {@code Objs.check} reads the memo only on the thread
 * state's thread, and {@code detach} (which {@code close} runs too) empties it, so an entry exists only while the
 * state is attached; the other ways out of ATTACHED (suspended at a checkpoint, closed by a reaper after the thread
 * ended) are taken where the thread makes no call.
 *
 * <p>Owner only (a plain array), with two exceptions that the owner cannot run during: a thread merging a detached
 * owner's queue (the owner's attach waits while it is MERGING, and the state's CAS back orders the writes before the
 * owner's next call) and the collector with the world stopped.
 */
final class ProvenObjects {

    private static final int SLOTS = 256;
    /**
     * An empty slot: misaligned, so never an object's address; callers test alignment before {@link #contains}, or a
     * caller's 1 would match it. Not 0, which a caller may pass and every empty slot would match.
     */
    private static final long EMPTY = 1;

    private final long[] slots = new long[SLOTS];
    /** Whether an entry may have been added since the last {@link #clear} (a thread that proves nothing clears nothing). */
    private boolean dirty;

    ProvenObjects() {
        Arrays.fill(slots, EMPTY);
    }

    boolean contains(long obj) {
        return slots[slot(obj)] == obj;
    }

    void add(long obj) {
        slots[slot(obj)] = obj;
        dirty = true;
    }

    void forget(long obj) {
        int slot = slot(obj);
        if (slots[slot] == obj) {
            slots[slot] = EMPTY;
        }
    }

    void clear() {
        if (dirty) {
            Arrays.fill(slots, EMPTY);
            dirty = false;
        }
    }

    /** Blocks are 16-byte aligned; the bits above mix in so that objects a page apart do not share a slot. */
    private static int slot(long obj) {
        return (int) ((obj >>> 4) ^ (obj >>> 10)) & (SLOTS - 1);
    }
}
