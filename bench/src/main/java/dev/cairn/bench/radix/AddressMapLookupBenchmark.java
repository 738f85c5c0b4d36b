package dev.cairn.bench.radix;

import dev.cairn.bench.support.BenchDefaults;
import dev.cairn.radix.AddressMap;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.StampedLock;
import org.eclipse.collections.impl.map.mutable.primitive.LongLongHashMap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Latency of "which segment owns this address?" for hits and misses: Cairn's {@link AddressMap} next to a
 * {@link ConcurrentHashMap} keyed by segment index ({@code address >>> shift}) and an Eclipse Collections
 * {@link LongLongHashMap} behind a {@link StampedLock} (optimistic read, and a plain read lock).
 *
 * <p>The hash map is keyed by index, not by base: aligned bases share their low bits, and {@code Long.hashCode}
 * leaves them so, so keyed by base the 256 clustered segments fell into a handful of bins, which the map turns into
 * red-black trees (a tree search per lookup: 23 ns per hit in the runs before 2026-11-27). The index is what a
 * careful user of the map would key by.
 *
 * <p>The map holds {@value #SEGMENTS} segments of 32 MiB. {@code layout=clustered} places them as {@code mmap}
 * does in a running process, top-down with small gaps below the mmap base (all in one leaf of the tree);
 * {@code layout=spread} scatters them over 1 TiB (sixteen leaves, the cache-unfriendly worst case). Each invocation
 * runs {@value #LOOKUPS} lookups as a dependent chain: the next query's address depends on the previous answer (the
 * dependency contributes nothing to the address but the CPU cannot know that), so the figure is the latency of one
 * lookup, not the throughput of overlapped ones. {@code chainOnly} runs the same chain without a lookup: subtract it
 * to get the lookup alone. Query sets: {@code hit} = random bytes inside mapped segments; {@code miss} = random
 * addresses, half in unmapped granules of populated leaves and half far from any mapping, plus the odd ones
 * (0, negative, above the user address space).
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = BenchDefaults.FORKS, jvmArgsAppend = {BenchDefaults.NATIVE_ACCESS})
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = 1)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = 1)
public class AddressMapLookupBenchmark {

    static final int SEGMENTS = 256;
    static final int LOOKUPS = 1024;
    private static final int SHIFT = 25;
    private static final long SEGMENT_SIZE = 1L << SHIFT;
    private static final long MMAP_AREA = 0x7f00_0000_0000L;

    @Param({"hit", "miss"})
    public String queries;

    @Param({"clustered", "spread"})
    public String layout;

    private AddressMap addressMap;
    private ConcurrentHashMap<Long, Long> concurrentHashMap;
    private LongLongHashMap eclipseMap;
    private StampedLock lock;
    private long[] addresses;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(7);
        addressMap = AddressMap.create(SHIFT);
        concurrentHashMap = new ConcurrentHashMap<>();
        eclipseMap = new LongLongHashMap();
        lock = new StampedLock();
        long[] bases = new long[SEGMENTS];
        for (int i = 0; i < SEGMENTS; i++) {
            long base;
            if ("clustered".equals(layout)) {
                long below = i == 0 ? MMAP_AREA + (16L << 30) : bases[i - 1];
                base = below - (1 + random.nextInt(3)) * SEGMENT_SIZE;
            } else {
                do {
                    base = MMAP_AREA + random.nextLong(1L << (40 - SHIFT)) * SEGMENT_SIZE;
                } while (addressMap.lookup(base) != AddressMap.NOT_OURS);
            }
            bases[i] = base;
            addressMap.insert(base, SEGMENT_SIZE, base);
            concurrentHashMap.put(base >>> SHIFT, base);
            eclipseMap.put(base, base);
        }
        addresses = new long[LOOKUPS];
        for (int i = 0; i < LOOKUPS; i++) {
            addresses[i] = "hit".equals(queries)
                    ? bases[random.nextInt(SEGMENTS)] + random.nextLong(SEGMENT_SIZE)
                    : missAddress(random, i);
        }
    }

    private long missAddress(SplittableRandom random, int i) {
        long address;
        switch (i % 16) {
            case 0 -> address = 0;
            case 1 -> address = -random.nextLong(1L << 40) - 1;
            case 2 -> address = AddressMap.USER_ADDRESS_LIMIT + random.nextLong(1L << 40);
            default -> {
                do {
                    address = (i & 1) == 0
                            ? MMAP_AREA + random.nextLong(1L << 40)
                            : random.nextLong(AddressMap.USER_ADDRESS_LIMIT);
                } while (addressMap.lookup(address) != AddressMap.NOT_OURS);
            }
        }
        return address;
    }

    /** The answer's sign bit is always 0 for these maps, but the JIT cannot prove it: a free data dependency. */
    private static long dependency(long answer) {
        return answer >>> 63;
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long chainOnly() {
        long answer = 0;
        long[] queryAddresses = addresses;
        for (int i = 0; i < queryAddresses.length; i++) {
            answer = queryAddresses[i] ^ dependency(answer);
        }
        return answer;
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long addressMap() {
        long answer = 0;
        long[] queryAddresses = addresses;
        AddressMap map = addressMap;
        for (int i = 0; i < queryAddresses.length; i++) {
            answer = map.lookup(queryAddresses[i] ^ dependency(answer));
        }
        return answer;
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long concurrentHashMap() {
        long answer = 0;
        long[] queryAddresses = addresses;
        ConcurrentHashMap<Long, Long> map = concurrentHashMap;
        for (int i = 0; i < queryAddresses.length; i++) {
            long address = queryAddresses[i] ^ dependency(answer);
            Long value = map.get(address >>> SHIFT);
            answer = value == null ? 0 : value;
        }
        return answer;
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long eclipseStampedOptimistic() {
        long answer = 0;
        long[] queryAddresses = addresses;
        for (int i = 0; i < queryAddresses.length; i++) {
            long key = (queryAddresses[i] ^ dependency(answer)) & -SEGMENT_SIZE;
            long stamp = lock.tryOptimisticRead();
            long value = eclipseMap.get(key);
            if (!lock.validate(stamp)) {
                stamp = lock.readLock();
                try {
                    value = eclipseMap.get(key);
                } finally {
                    lock.unlockRead(stamp);
                }
            }
            answer = value;
        }
        return answer;
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long eclipseStampedReadLock() {
        long answer = 0;
        long[] queryAddresses = addresses;
        for (int i = 0; i < queryAddresses.length; i++) {
            long key = (queryAddresses[i] ^ dependency(answer)) & -SEGMENT_SIZE;
            long stamp = lock.readLock();
            try {
                answer = eclipseMap.get(key);
            } finally {
                lock.unlockRead(stamp);
            }
        }
        return answer;
    }
}
