package dev.cairn.reclaim.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A domain's two shared sequence words: the write sequence ({@code wrSeq}) and the cached read sequence
 * ({@code rdSeq}), each on its own cache line.
 *
 * <p>{@code wrSeq} is read by every {@code quiescent()} of every thread and written only by {@code advance()}
 * (a fetch-and-add); {@code rdSeq} is read by every poll and written by a scan's CAS. Keeping them apart means a
 * scan publishing {@code rdSeq} does not invalidate the line every reader loads on its fast path. Padding comes
 * from the class hierarchy (the JVM lays superclass fields first); {@code SlotLayoutTest} checks the offsets with JOL.
 *
 * <p>Writers and guards: {@code wrSeq} only changes through {@link #getAndAddWr} (any thread, atomic);
 * {@code rdSeq} only moves forward through {@link #casRd} (any thread, atomic). Neither needs a lock.
 */
public final class GlobalSeq extends GlobalSeqRd {

    private static final VarHandle WR_SEQ;
    private static final VarHandle RD_SEQ;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            WR_SEQ = lookup.findVarHandle(GlobalSeqWr.class, "wrSeq", long.class);
            RD_SEQ = lookup.findVarHandle(GlobalSeqRd.class, "rdSeq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long p40;
    long p41;
    long p42;
    long p43;
    long p44;
    long p45;
    long p46;
    long p47;

    /** A fresh domain's sequences: both {@link Seq#INITIAL} (nothing advanced, nothing outstanding). */
    public GlobalSeq() {
        WR_SEQ.setRelease(this, Seq.INITIAL);
        RD_SEQ.setRelease(this, Seq.INITIAL);
    }

    /** The write sequence, acquire: a reader that sees an advanced value also sees what preceded the advance. */
    public long loadWrAcquire() {
        return (long) WR_SEQ.getAcquire(this);
    }

    /** Atomically adds {@code delta} to the write sequence (volatile read-modify-write); returns the old value. */
    public long getAndAddWr(long delta) {
        return (long) WR_SEQ.getAndAdd(this, delta);
    }

    /** The cached read sequence, acquire: pairs with the (release) CAS of the scan that published it. */
    public long loadRdAcquire() {
        return (long) RD_SEQ.getAcquire(this);
    }

    /** CAS of the read sequence (volatile); callers only ever move it forward. */
    public boolean casRd(long expected, long value) {
        return RD_SEQ.compareAndSet(this, expected, value);
    }
}

/** 64 bytes before {@code wrSeq}, so nothing allocated before this object shares its line. */
abstract class GlobalSeqPad64a {
    long p00;
    long p01;
    long p02;
    long p03;
    long p04;
    long p05;
    long p06;
    long p07;
}

/** The write sequence; accessed only through {@link GlobalSeq}'s var handle. */
abstract class GlobalSeqWr extends GlobalSeqPad64a {
    long wrSeq;
}

/** 64 bytes between {@code wrSeq} and {@code rdSeq}. */
abstract class GlobalSeqPad64b extends GlobalSeqWr {
    long p20;
    long p21;
    long p22;
    long p23;
    long p24;
    long p25;
    long p26;
    long p27;
}

/** The cached read sequence; accessed only through {@link GlobalSeq}'s var handle. */
abstract class GlobalSeqRd extends GlobalSeqPad64b {
    long rdSeq;
}
