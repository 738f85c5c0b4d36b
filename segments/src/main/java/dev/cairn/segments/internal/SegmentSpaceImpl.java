package dev.cairn.segments.internal;

import dev.cairn.segments.Segment;
import dev.cairn.segments.SegmentConfig;
import dev.cairn.segments.SegmentSpace;
import dev.cairn.segments.SegmentStats;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The {@link SegmentSpace}: validation, per-segment commit tracking and byte accounting over an {@link OsMemory}.
 *
 * <p><b>Locking.</b> Two levels, always taken in this order:
 * <ol>
 *   <li>{@link #closeLock}: every operation that touches segments holds the read lock; {@link #close()} holds the
 *       write lock. So close waits for operations in flight, and a reservation cannot slip into {@link #live} after
 *       close has emptied it (which would leak the mapping).</li>
 *   <li>{@link LiveSegment#lock}: one per segment, held across the OS call and the {@link CommitMap} and counter
 *       updates for that segment, so the map always says what the OS did and the byte counters move with it. Release
 *       marks the segment released under this lock; an operation that looked the segment up just before sees the
 *       mark and refuses, so no call ever reaches an address range after it went back to the OS.</li>
 * </ol>
 * Counters are updated only after the OS call succeeded, run by run, so a failure part-way leaves them exact.
 *
 * <p><b>Rounding.</b> Commit covers every unit the range touches (outward); purge and decommit cover only units the
 * range contains whole (inward), so they never drop memory the caller did not name.
 */
public final class SegmentSpaceImpl implements SegmentSpace {

    private final SegmentConfig config;
    private final OsMemory os;
    private final SpaceCounters counters;
    private final long pageSize;
    private final long unitSize;
    private final int unitShift;
    /**
     * Live segments by index ({@code base >>> segmentShift}, see {@link #key}). Insertions under the read lock after
     * the OS call; removals under the segment lock. Not by base: bases are aligned to the segment size, their
     * {@code Long} hashes share their low bits, and a cluster of segments fell into a few bins kept as red-black trees.
     */
    private final ConcurrentHashMap<Long, LiveSegment> live = new ConcurrentHashMap<>();
    /** Log2 of the segment size, which every base is aligned to (huge segments too). */
    private final int segmentShift;
    private final ReentrantReadWriteLock closeLock = new ReentrantReadWriteLock();
    /** Written under the write lock of {@link #closeLock}, read under its read lock. */
    private boolean closed;
    /** Set by {@link #retire()}; written and read as {@link #closed}. */
    private boolean retired;

    private SegmentSpaceImpl(SegmentConfig config, OsMemory os, SpaceCounters counters) {
        this.config = config;
        this.os = os;
        this.counters = counters;
        this.pageSize = os.pageSize();
        this.unitSize = config.commitUnit();
        this.unitShift = Long.numberOfTrailingZeros(unitSize);
        this.segmentShift = Long.numberOfTrailingZeros(config.segmentSize());
    }

    private Long key(long base) {
        return base >>> segmentShift;
    }

    /** See {@link SegmentSpace#create(SegmentConfig)}. */
    public static SegmentSpace create(SegmentConfig config) {
        Objects.requireNonNull(config, "config");
        SpaceCounters counters = new SpaceCounters();
        OsMemory os = switch (config.backend()) {
            case AUTO -> Platform.mmapSupported()
                    ? new LinuxOsMemory(counters, config.purgeMode())
                    : new ArenaOsMemory(counters);
            case MMAP -> {
                if (!Platform.mmapSupported()) {
                    throw new UnsupportedOperationException("the MMAP backend needs Linux on x86_64 or aarch64; "
                            + "this is " + Platform.describe() + " (use Backend.AUTO or ARENA)");
                }
                yield new LinuxOsMemory(counters, config.purgeMode());
            }
            case ARENA -> new ArenaOsMemory(counters);
        };
        if (config.commitUnit() < os.pageSize()) {
            throw new IllegalArgumentException("commitUnit (" + Sizes.human(config.commitUnit())
                    + ") must be at least the OS page size (" + Sizes.human(os.pageSize()) + ")");
        }
        return new SegmentSpaceImpl(config, os, counters);
    }

    @Override
    public Segment reserve() {
        return reserveSized(config.segmentSize());
    }

    @Override
    public Segment reserveHuge(long size) {
        if (size <= 0 || size > ADDRESS_SPACE_LIMIT || size % config.segmentSize() != 0) {
            throw new IllegalArgumentException("huge segment size must be a positive multiple of the segment size ("
                    + Sizes.human(config.segmentSize()) + ") and at most " + Sizes.human(ADDRESS_SPACE_LIMIT)
                    + ", was " + size + " bytes");
        }
        return reserveSized(size);
    }

    @Override
    public void commit(Segment segment, long offset, long length) {
        checkRange(segment, offset, length);
        long from = offset >>> unitShift;
        long to = (offset + length + unitSize - 1) >>> unitShift;
        LiveSegment s = enter(segment);
        try {
            if (segment.backing().alwaysCommitted()) {
                counters.noOpRequest();
            } else {
                commitUnits(s, from, to);
            }
        } finally {
            exit(s);
        }
    }

    @Override
    public void decommit(Segment segment, long offset, long length) {
        forEachUnitRun(segment, offset, length, true, (s, from, to) -> {
            os.decommit(address(segment, from), bytes(to - from));
            s.commits.clear(from, to);
            counters.decommitted(bytes(to - from));
        });
        // purged units are accessible though uncommitted: make them inaccessible too (no longer counted committed)
        forEachUnitRun(segment, offset, length, false, (s, from, to) -> {
            os.decommit(address(segment, from), bytes(to - from));
            s.purged.clear(from, to);
            counters.decommitted(0, bytes(to - from));
        });
    }

    @Override
    public void purge(Segment segment, long offset, long length) {
        forEachUnitRun(segment, offset, length, true, (s, from, to) -> {
            os.purge(address(segment, from), bytes(to - from));
            s.commits.clear(from, to);
            s.purged.set(from, to);
            counters.purged(bytes(to - from));
            counters.uncommitted(bytes(to - from));
        });
    }

    @Override
    public void discardPurged(Segment segment, long offset, long length) {
        forEachUnitRun(segment, offset, length, false, (s, from, to) -> os.purge(address(segment, from),
                bytes(to - from)));
    }

    @Override
    public void reset(Segment segment, long offset, long length) {
        forEachUnitRun(segment, offset, length, true, (s, from, to) -> {
            os.purge(address(segment, from), bytes(to - from));
            counters.purged(bytes(to - from));
        });
    }

    /** What decommit and purge do to one run {@code [from, to)} of committed units, holding the segment. */
    private interface RunAction {
        void apply(LiveSegment segment, long from, long to);
    }

    /**
     * Rounds {@code [offset, offset + length)} inward to whole units and applies {@code action} once per run of
     * committed units in it ({@code committed}), or of purged ones (one OS call per run; other units are skipped:
     * nothing there to give back). Always-committed backings count a no-op request instead.
     */
    private void forEachUnitRun(Segment segment, long offset, long length, boolean committed, RunAction action) {
        checkRange(segment, offset, length);
        long from = (offset + unitSize - 1) >>> unitShift;
        long to = (offset + length) >>> unitShift;
        LiveSegment s = enter(segment);
        try {
            if (segment.backing().alwaysCommitted()) {
                counters.noOpRequest();
                return;
            }
            CommitMap map = committed ? s.commits : s.purged;
            long u = map.nextSet(from, to);
            while (u < to) {
                long end = map.nextClear(u, to);
                action.apply(s, u, end);
                u = map.nextSet(end, to);
            }
        } finally {
            exit(s);
        }
    }

    @Override
    public boolean isCommitted(Segment segment, long offset, long length) {
        checkRange(segment, offset, length);
        LiveSegment s = enter(segment);
        try {
            return s.commits.allCommitted(offset >>> unitShift, (offset + length + unitSize - 1) >>> unitShift);
        } finally {
            exit(s);
        }
    }

    @Override
    public long committedBytes(Segment segment) {
        LiveSegment s = enter(segment);
        try {
            return bytes(s.commits.countCommitted());
        } finally {
            exit(s);
        }
    }

    @Override
    public void release(Segment segment) {
        LiveSegment s = enter(segment);
        try {
            releaseLocked(s);
        } finally {
            exit(s);
        }
    }

    @Override
    public void retire() {
        closeLock.writeLock().lock();
        try {
            if (closed || retired) {
                return;
            }
            retired = true;
            forEachLiveLocked(s -> {
                os.retire(s.segment.base(), s.segment.size());
                counters.decommitted(bytes(s.commits.clear(0, s.commits.units())));
            });
        } finally {
            closeLock.writeLock().unlock();
        }
    }

    @Override
    public void close() {
        closeLock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            forEachLiveLocked(s -> {
                if (!s.released) {
                    releaseLocked(s);
                }
            });
        } finally {
            closeLock.writeLock().unlock();
        }
    }

    /**
     * Runs {@code action} on every live segment under its lock (the caller holds the write lock of
     * {@link #closeLock}); a failure does not stop the others, and the first is thrown at the end with the later
     * ones suppressed.
     */
    private void forEachLiveLocked(java.util.function.Consumer<LiveSegment> action) {
        Throwable failure = null;
        for (LiveSegment s : live.values()) {
            s.lock.lock();
            try {
                action.accept(s);
            } catch (RuntimeException | Error e) {
                failure = firstOrSuppressed(failure, e);
            } finally {
                s.lock.unlock();
            }
        }
        rethrowUnchecked(failure);
    }

    @Override
    public long segmentSize() {
        return config.segmentSize();
    }

    @Override
    public long pageSize() {
        return pageSize;
    }

    @Override
    public SegmentStats stats() {
        return counters.snapshot();
    }

    @Override
    public SegmentConfig config() {
        return config;
    }

    /** The purge advice in effect, for people (the demo prints it). */
    public String purgeDescription() {
        return os.purgeDescription();
    }

    /**
     * Checks that the counters agree with the segments: reserved bytes, committed bytes and the live count equal
     * the sums over live segments, and each commit map's count matches its bits. Only meaningful while no other
     * thread is using the space.
     *
     * @throws IllegalStateException naming the first mismatch
     */
    public void checkInvariants() {
        long reserved = 0;
        long committed = 0;
        long count = 0;
        for (LiveSegment s : live.values()) {
            s.lock.lock();
            try {
                long bits = s.commits.countCommitted();
                if (bits != s.commits.committedUnits()) {
                    throw new IllegalStateException(s.segment + ": commit map counts " + s.commits.committedUnits()
                            + " units but has " + bits + " bits set");
                }
                long units = s.purged.units();
                for (long u = s.purged.nextSet(0, units); u < units; u = s.purged.nextSet(u + 1, units)) {
                    if (s.commits.isCommitted(u)) {
                        throw new IllegalStateException(s.segment + ": unit " + u + " both committed and purged");
                    }
                }
                reserved += s.segment.size();
                committed += bytes(bits);
                count++;
            } finally {
                s.lock.unlock();
            }
        }
        expect("reservedBytes", reserved, counters.reservedBytes());
        expect("committedBytes", committed, counters.committedBytes());
        expect("liveSegments", count, counters.liveSegments());
    }

    // ---- reservation ----

    private Segment reserveSized(long size) {
        closeLock.readLock().lock();
        try {
            ensureOpen();
            OsMemory.Mapping mapping = os.reserve(size, config.segmentSize(), config.hugePages());
            Segment segment = new Segment(mapping.base(), size, mapping.backing());
            LiveSegment s;
            try {
                s = new LiveSegment(segment, new CommitMap(size >>> unitShift, mapping.backing().alwaysCommitted()));
                if (config.commitOnReserve() && !mapping.backing().alwaysCommitted()) {
                    os.commit(segment.base(), size);
                    s.commits.set(0, s.commits.units());
                }
            } catch (RuntimeException | Error e) {
                releaseAfterFailure(segment, e); // not yet published or counted: only the mapping to undo
                throw e;
            }
            live.put(key(segment.base()), s);
            counters.reserved(size, bytes(s.commits.committedUnits()));
            return segment;
        } finally {
            closeLock.readLock().unlock();
        }
    }

    private void releaseAfterFailure(Segment segment, Throwable failure) {
        try {
            os.release(segment.base(), segment.size());
        } catch (RuntimeException | Error e) {
            failure.addSuppressed(e);
        }
    }

    // ---- commit, under the segment lock ----

    private void commitUnits(LiveSegment s, long from, long to) {
        long u = s.commits.nextClear(from, to);
        while (u < to) { // committed units are kept as they are, and not counted twice
            long end = s.commits.nextSet(u, to);
            commitRun(s, u, end);
            s.commits.set(u, end);
            counters.committed(bytes(end - u));
            u = s.commits.nextClear(end, to);
        }
    }

    /** Makes the uncommitted units {@code [from, to)} accessible: purged ones are already, the others need the OS. */
    private void commitRun(LiveSegment s, long from, long to) {
        long u = s.purged.nextClear(from, to);
        while (u < to) {
            long end = s.purged.nextSet(u, to);
            os.commit(address(s.segment, u), bytes(end - u));
            u = s.purged.nextClear(end, to);
        }
        s.purged.clear(from, to);
    }

    private void releaseLocked(LiveSegment s) {
        Segment segment = s.segment;
        os.release(segment.base(), segment.size()); // a failure leaves the segment live and counted
        s.released = true;
        live.remove(key(segment.base()), s);
        counters.released(segment.size(), bytes(s.commits.committedUnits()));
    }

    // ---- entering and leaving an operation on a live segment ----

    /** Takes the read lock and the segment's lock; throws (holding neither) if closed or the segment is not live. */
    private LiveSegment enter(Segment segment) {
        Objects.requireNonNull(segment, "segment");
        closeLock.readLock().lock();
        try {
            ensureOpen();
            LiveSegment s = live.get(key(segment.base()));
            if (s == null || !s.segment.equals(segment)) {
                throw notLive(segment);
            }
            s.lock.lock();
            if (s.released) { // released between the lookup and the lock (partner: releaseLocked)
                s.lock.unlock();
                throw notLive(segment);
            }
            return s;
        } catch (RuntimeException | Error e) {
            closeLock.readLock().unlock();
            throw e;
        }
    }

    private void exit(LiveSegment s) {
        s.lock.unlock();
        closeLock.readLock().unlock();
    }

    private void ensureOpen() {
        if (closed || retired) {
            throw new IllegalStateException("this segment space is closed");
        }
    }

    private static Throwable firstOrSuppressed(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    // ---- validation and helpers ----

    private void checkRange(Segment segment, long offset, long length) {
        Objects.requireNonNull(segment, "segment");
        if (offset < 0 || length <= 0 || length > segment.size() || offset > segment.size() - length) {
            throw new IllegalArgumentException("range [offset " + offset + ", length " + length
                    + ") is not a non-empty range inside the segment of " + Sizes.humanWithBytes(segment.size()));
        }
        if (((offset | length) & (pageSize - 1)) != 0) {
            throw new IllegalArgumentException("offset " + offset + " and length " + length
                    + " must be multiples of the page size (" + pageSize + " bytes)");
        }
    }

    private long address(Segment segment, long unit) {
        return segment.base() + (unit << unitShift);
    }

    private long bytes(long units) {
        return units << unitShift;
    }

    private static IllegalStateException notLive(Segment segment) {
        return new IllegalStateException("segment at " + Sizes.hex(segment.base()) + " (" + Sizes.human(segment.size())
                + ") is not live in this space: released already, or reserved by another space");
    }

    private static void expect(String counter, long fromSegments, long counted) {
        if (fromSegments != counted) {
            throw new IllegalStateException(counter + " is " + counted + " but the live segments add up to "
                    + fromSegments);
        }
    }

    private static void rethrowUnchecked(Throwable failure) {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }
}
