package dev.cairn.alloc.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Allocation-site sampling (one per allocator, only when {@code AllocatorConfig.sampleRate > 0}): the Java stack of
 * about one allocation in {@code rate} is recorded and kept while its block lives, so a heap dump can say which code
 * holds the memory (the way Netty's leak detector and heaptrack find leaks).
 *
 * <p>Cost protocol: with sampling off no sampler exists and the heaps' and free path's {@code sampler != null} tests
 * are the whole cost. With sampling on, each heap owns a {@link Tap} whose countdown is decremented on every
 * allocation by the heap's thread (plain field, owner only); when it reaches zero the stack is walked and the block
 * goes into {@link #samples} (concurrent: frees come from any thread). Every free does one map removal. Intervals
 * are drawn uniformly from {@code [1, 2 * rate - 1]} so periodic allocation patterns are not aliased; rate 1
 * (strict) samples every allocation, which makes site totals exact.
 *
 * <p>Stale entries: blocks released without a {@code free} (an arena's close) are dropped by {@link #forgetHeap};
 * a dump reader matches samples against live blocks anyway.
 */
final class SiteSampler {

    /** Frames kept per stack: enough to see past collection and pool wrappers, bounded so sampling stays cheap. */
    static final int MAX_FRAMES = 32;

    /** One sampled block: its requested size, its site and the heap that allocated it. */
    record Sample(long size, int site, int heapId) {
    }

    private final int rate;
    private final ConcurrentHashMap<Long, Sample> samples = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Integer> siteIds = new ConcurrentHashMap<>();
    /** Frames per site id; appended under {@code this}, read by the dump under {@code this}. */
    private final List<String[]> sites = new ArrayList<>();

    SiteSampler(int rate) {
        this.rate = rate;
    }

    int rate() {
        return rate;
    }

    /** A heap's countdown; owned by the heap's thread. */
    Tap tap(int heapId) {
        return new Tap(heapId);
    }

    void onFree(long address) {
        samples.remove(address);
    }

    void forgetHeap(int heapId) {
        samples.values().removeIf(sample -> sample.heapId() == heapId);
    }

    /** The heap ended with blocks still live (abandoned): their samples name heap 0, as their segments do. */
    void orphanHeap(int heapId) {
        samples.replaceAll((address, sample) -> sample.heapId() == heapId
                ? new Sample(sample.size(), sample.site(), 0) : sample);
    }

    /** The samples now, as {@code (address, size, site, heapId)} quadruples, for the dump. */
    List<long[]> samples() {
        List<long[]> out = new ArrayList<>(samples.size());
        samples.forEach((address, s) -> out.add(new long[] {address, s.size(), s.site(), s.heapId()}));
        return out;
    }

    /** Frames of every site id recorded so far. */
    synchronized List<String[]> sites() {
        return new ArrayList<>(sites);
    }

    private int siteOf(String[] frames) {
        String key = String.join("\n", frames);
        Integer id = siteIds.get(key);
        if (id != null) {
            return id;
        }
        synchronized (this) {
            return siteIds.computeIfAbsent(key, k -> {
                sites.add(frames);
                return sites.size() - 1;
            });
        }
    }

    private static String[] callerStack() {
        return StackWalker.getInstance().walk(frames -> frames
                .dropWhile(f -> f.getClassName().startsWith("dev.cairn.alloc.internal.")
                        || f.getClassName().startsWith("java.lang.foreign."))
                .limit(MAX_FRAMES)
                .map(f -> f.toStackTraceElement().toString())
                .toArray(String[]::new));
    }

    /** The per-heap side: the countdown to the next sample. */
    final class Tap {
        private final int heapId;
        private int countdown;

        private Tap(int heapId) {
            this.heapId = heapId;
            this.countdown = nextInterval();
        }

        /** Called with every block the heap hands out; returns the block. */
        long allocated(long block, long size) {
            if (--countdown > 0) {
                return block;
            }
            countdown = nextInterval();
            samples.put(block, new Sample(size, siteOf(callerStack()), heapId));
            return block;
        }

        private int nextInterval() {
            return rate == 1 ? 1 : ThreadLocalRandom.current().nextInt(1, 2 * rate);
        }
    }
}
