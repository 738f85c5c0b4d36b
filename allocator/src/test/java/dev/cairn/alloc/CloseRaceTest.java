package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.reclaim.QsbrThread;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * {@code close()} while other threads are inside calls: they end with an {@link IllegalStateException}, and the JVM
 * does not crash. Before CloseGuard and retired segments, close unmapped the segments under threads that had passed
 * the closed test a moment before: a free's CAS or a malloc's pop then faulted (SIGSEGV in
 * {@code AllocatorImpl.freeRemote} and {@code Unsafe.getIntUnaligned}), in most rounds. A crash fails this test's
 * fork. Each round starts the workers, lets each make a few hundred calls, closes, and checks what they saw.
 */
class CloseRaceTest {

    private static final int ROUNDS = 100;

    /** The work one racing thread does, in a loop, until a call refuses. */
    private interface Work {
        void step(Allocator allocator, long[] mine, AtomicLongArray shared, SplittableRandom random, int i);
    }

    private static final Map<String, Work> WORKS = Map.of(
            "malloc-free", (a, mine, shared, random, i) -> {
                int slot = i & (mine.length - 1);
                a.free(mine[slot]);
                mine[slot] = a.malloc(1 + random.nextInt(3000));
            },
            "held-heap", (a, mine, shared, random, i) -> {
                Heap heap = a.heap();
                for (int k = 0; k < 64; k++) {
                    int slot = (i + k) & (mine.length - 1);
                    heap.free(mine[slot]);
                    mine[slot] = heap.malloc(16 + random.nextInt(500));
                }
            },
            "remote-free", (a, mine, shared, random, i) -> {
                long block = shared.getAndSet(i % shared.length(), 0);
                a.free(block);
                mine[i & (mine.length - 1)] = a.malloc(64); // keeps the loop going once the shared blocks are gone
                a.free(mine[i & (mine.length - 1)]);
                mine[i & (mine.length - 1)] = 0;
            },
            "realloc-calloc-huge", (a, mine, shared, random, i) -> {
                int slot = i & (mine.length - 1);
                mine[slot] = a.realloc(mine[slot], 1 + random.nextInt(100_000));
                if ((i & 15) == 0) {
                    a.free(a.calloc(1, (5L << 20) + random.nextInt(1 << 20))); // huge: its own segment
                }
            },
            "delayed-collect", (a, mine, shared, random, i) -> {
                QsbrThread reader = a.qsbrThread();
                a.freeDelayed(a.malloc(1 + random.nextInt(2000)));
                reader.quiescent();
                if ((i & 31) == 0) {
                    a.collect((i & 63) == 0);
                }
                long block = shared.get(i % shared.length());
                if (block != 0) {
                    a.isLive(block);
                }
            });

    @Test
    void threadsInsideCallsWhenTheAllocatorClosesGetIllegalStateException() throws InterruptedException {
        SplittableRandom seeds = new SplittableRandom(Long.getLong("cairn.test.seed", System.nanoTime()));
        long seed = seeds.nextLong();
        System.out.println("CloseRaceTest seed " + seed + " (-Dcairn.test.seed=" + seed + " replays the rounds)");
        SplittableRandom rounds = new SplittableRandom(seed);
        Map<String, Integer> refusals = new ConcurrentHashMap<>();
        List<String> works = new ArrayList<>(WORKS.keySet());
        for (int round = 0; round < ROUNDS; round++) {
            boolean virtual = round % 5 == 4;
            Allocator allocator = Allocator.create(AllocatorConfig.builder().segmentSize(4L << 20)
                    .checked(round % 7 != 6).build());
            AtomicLongArray shared = new AtomicLongArray(2048);
            for (int i = 0; i < shared.length(); i++) {
                shared.set(i, allocator.malloc(16 + i % 700));
            }
            List<String> chosen = List.of(works.get(rounds.nextInt(works.size())),
                    works.get(rounds.nextInt(works.size())));
            CountDownLatch running = new CountDownLatch(chosen.size());
            List<Throwable> unexpected = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (String name : chosen) {
                long workerSeed = rounds.nextLong();
                Runnable body = () -> {
                    SplittableRandom random = new SplittableRandom(workerSeed);
                    long[] mine = new long[256];
                    try {
                        for (int i = 0; ; i++) {
                            WORKS.get(name).step(allocator, mine, shared, random, i);
                            if (i == 200) {
                                running.countDown();
                            }
                        }
                    } catch (IllegalStateException refused) {
                        refusals.merge(name, 1, Integer::sum);
                    } catch (Throwable t) {
                        synchronized (unexpected) {
                            unexpected.add(new AssertionError(name + ": " + t, t));
                        }
                    } finally {
                        running.countDown();
                    }
                };
                threads.add(virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body));
            }
            running.await();
            allocator.close();
            for (Thread thread : threads) {
                thread.join(30_000);
                assertTrue(!thread.isAlive(), "a worker still runs 30 s after close (round " + round + ")");
            }
            if (!unexpected.isEmpty()) {
                throw new AssertionError("round " + round + " (" + chosen + ", seed " + seed + ")",
                        unexpected.getFirst());
            }
        }
        System.out.println("CloseRaceTest refusals per work: " + refusals);
        assertEquals(WORKS.keySet(), refusals.keySet(), "every kind of work ran into a close at least once");
    }
}
