package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two threads race to free the same blocks of a third thread's pages, many rounds: in checked mode exactly one free
 * of each block succeeds and the other gets an {@link IllegalArgumentException}, and the heap validates after every
 * round (the remote bit's atomic OR is what orders them).
 */
class RemoteDoubleFreeRaceTest {

    /**
     * A huge block freed at the same instant by its owner and by another thread: the owner's free of a huge block
     * claims it with the same atomic as a remote free (a normal block's owner checks and clears its bits plainly,
     * which cannot order it with a remote free; for a huge block the loser would release the segment a second time).
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anOwnerAndARemoteFreeOfOneHugeBlockRacingExactlyOneWins() throws Exception {
        int blocks = 4;
        try (Allocator allocator = Allocator.create()) {
            long[] addresses = new long[blocks];
            CyclicBarrier start = new CyclicBarrier(2);
            CyclicBarrier done = new CyclicBarrier(2);
            AtomicInteger freed = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            int rounds = 400;
            Thread remote = new Thread(() -> {
                try {
                    for (int round = 0; round < rounds; round++) {
                        start.await(10, TimeUnit.SECONDS);
                        freeAll(allocator, addresses, freed, refused);
                        done.await(10, TimeUnit.SECONDS);
                    }
                } catch (Throwable t) {
                    unexpected.set(t);
                }
            });
            remote.start();
            for (int round = 0; round < rounds && unexpected.get() == null; round++) {
                for (int i = 0; i < blocks; i++) {
                    addresses[i] = allocator.malloc((1 << 20) + i * 4096L); // huge: a segment each
                }
                freed.set(0);
                refused.set(0);
                start.await(10, TimeUnit.SECONDS);
                freeAll(allocator, addresses, freed, refused); // this thread owns them
                done.await(10, TimeUnit.SECONDS);
                assertEquals(blocks, freed.get(), "round " + round + ": every block freed exactly once");
                assertEquals(blocks, refused.get(), "round " + round + ": every second free refused");
            }
            remote.join();
            if (unexpected.get() != null) {
                throw new AssertionError("remote racer failed", unexpected.get());
            }
            allocator.validate();
            assertEquals(0, allocator.stats().blocksInUse());
        }
    }

    private static void freeAll(Allocator allocator, long[] addresses, AtomicInteger freed, AtomicInteger refused) {
        for (long address : addresses) {
            try {
                allocator.free(address);
                freed.incrementAndGet();
            } catch (IllegalArgumentException e) {
                refused.incrementAndGet();
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void exactlyOneOfTwoRacingRemoteFreesWins() throws Exception {
        int blocks = 2_000;
        try (Allocator allocator = Allocator.create()) {
            for (int round = 0; round < 30; round++) {
                long[] addresses = new long[blocks];
                for (int i = 0; i < blocks; i++) {
                    addresses[i] = allocator.malloc(16 + (i % 7) * 48);
                }
                AtomicInteger freed = new AtomicInteger();
                AtomicInteger refused = new AtomicInteger();
                AtomicReference<Throwable> unexpected = new AtomicReference<>();
                CyclicBarrier start = new CyclicBarrier(2);
                Runnable racer = () -> {
                    try {
                        start.await(10, TimeUnit.SECONDS);
                        freeAll(allocator, addresses, freed, refused);
                    } catch (Throwable t) {
                        unexpected.set(t);
                    }
                };
                Thread a = new Thread(racer);
                Thread b = new Thread(racer);
                a.start();
                b.start();
                a.join();
                b.join();
                if (unexpected.get() != null) {
                    throw new AssertionError("racer failed", unexpected.get());
                }
                assertEquals(blocks, freed.get(), "round " + round + ": every block freed exactly once");
                assertEquals(blocks, refused.get(), "round " + round + ": every second free refused");
                allocator.validate();
                allocator.collect(true); // the owner (this thread) takes the remote frees back
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse(), "round " + round);
            }
        }
    }
}
