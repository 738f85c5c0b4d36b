package dev.cairn.segments.internal;

import dev.cairn.segments.Segment;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A space's record of one reserved segment. Commit, decommit, purge and release of the segment run under
 * {@link #lock}, so its {@link CommitMap}, the OS calls that change it and the counters move together.
 */
final class LiveSegment {

    final Segment segment;
    final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    final CommitMap commits;
    /**
     * Guarded by {@link #lock}: units purged and not committed again since. They stay accessible (readable and
     * writable) but count as uncommitted, so committing them again needs no system call. Disjoint from
     * {@link #commits}.
     */
    final CommitMap purged;
    /** Guarded by {@link #lock}; set once, when the memory has been returned to the OS. */
    boolean released;

    LiveSegment(Segment segment, CommitMap commits) {
        this.segment = segment;
        this.commits = commits;
        this.purged = new CommitMap(commits.units(), false);
    }
}
