package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The owner and another thread free the same small blocks at the same instant, many rounds. The owner's free makes
 * no atomic, only a fence after it clears the live bit, and reads the remote bit again: of the two frees at most one
 * succeeds, and when each saw the other both are refused and the block stays allocated (docs/design/allocator.md,
 * section 5, "Raced double frees"). What must hold whatever the timing: no block is freed twice, a block nobody freed
 * can still be freed, no block is handed out twice afterwards, the heap validates, and the counts stay exact. Before
 * the eleventh session a block freed by both sat on two lists: the count went below zero and a later malloc returned
 * a block that was already handed out (each test failed within half a second); until the fifteenth, both could still
 * succeed, and the two pushes of the one block could cut a list (RacedFreeProbe in bench).
 */
class OwnerRemoteDoubleFreeRaceTest {

    private static final int BLOCKS = 256;

    /** What the other thread does with the round's blocks: marks in {@code accepted} the frees that were accepted. */
    private interface Racer {
        void freeAll(Allocator allocator, long[] addresses, boolean[] accepted);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void anOwnerAndARemoteFreeOfOneBlockRacingLeaveTheHeapConsistent() throws Exception {
        race("remote free", Integer.getInteger("cairn.test.rounds", 3_000),
                (allocator, addresses, accepted) -> freeAll(addresses, allocator::free, accepted));
    }

    /**
     * The same race with the other thread's free delayed ({@code freeDelayed}: its pending mark is a claim like a
     * remote free's, and the real free comes later, on that thread): each block is freed once, whoever wins.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void anOwnerFreeAndADelayedFreeOfOneBlockRacingLeaveTheHeapConsistent() throws Exception {
        race("delayed free", Integer.getInteger("cairn.test.rounds", 3_000) / 3, (allocator, addresses, accepted) -> {
            freeAll(addresses, allocator::freeDelayed, accepted);
            // Hands the batch over and runs it: nobody reads, so it is due at once.
            for (int tries = 0; allocator.stats().delayedFreesPending() != 0 && tries < 1_000; tries++) {
                allocator.collect(false);
            }
        });
    }

    /**
     * Rounds: this thread (the owner) allocates the blocks, then it and the racer free all of them at once (a spin
     * barrier); then no block may have been freed by both, the owner frees those nobody freed, and the heap must
     * validate and hold nothing.
     */
    private static void race(String name, int rounds, Racer racer) throws Exception {
        try (Allocator allocator = Allocator.create()) {
            Heap heap = allocator.heap();
            long[] addresses = new long[BLOCKS];
            AtomicInteger go = new AtomicInteger(); // the round the racer may start
            AtomicInteger racerDone = new AtomicInteger();
            boolean[] racerAccepted = new boolean[BLOCKS];
            boolean[] ownerAccepted = new boolean[BLOCKS];
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    for (int round = 1; round <= rounds; round++) {
                        while (go.get() < round) {
                            Thread.onSpinWait();
                        }
                        racer.freeAll(allocator, addresses, racerAccepted);
                        racerDone.set(round); // publishes racerAccepted
                    }
                } catch (Throwable t) {
                    unexpected.set(t);
                }
            }, "racer");
            other.start();
            long nobodyFreed = 0;
            for (int round = 1; round <= rounds && unexpected.get() == null; round++) {
                for (int i = 0; i < BLOCKS; i++) {
                    addresses[i] = heap.malloc(16 + (i % 4) * 16);
                }
                java.util.Arrays.fill(racerAccepted, false);
                go.set(round); // publishes the addresses and the cleared marks
                freeAll(addresses, allocator::free, ownerAccepted);
                while (racerDone.get() < round && unexpected.get() == null) {
                    Thread.onSpinWait();
                }
                for (int i = 0; i < BLOCKS; i++) {
                    assertTrue(!(ownerAccepted[i] && racerAccepted[i]), "round " + round + ": block " + i
                            + " freed by both");
                    if (!ownerAccepted[i] && !racerAccepted[i]) {
                        allocator.free(addresses[i]); // each saw the other and refused: it is still allocated
                        nobodyFreed++;
                    }
                }
                assertEquals(0, allocator.stats().delayedFreesPending(), "round " + round + ": delayed frees ran");
                allocator.collect(true);
                allocator.validate();
                assertEquals(0, allocator.stats().blocksInUse(), "round " + round);
                if (round % 50 == 0) {
                    handsOutDistinctBlocks(heap);
                }
            }
            other.join();
            if (unexpected.get() != null) {
                throw new AssertionError(name + " racer failed", unexpected.get());
            }
            handsOutDistinctBlocks(heap);
            allocator.validate();
            System.out.println("OwnerRemoteDoubleFreeRaceTest (" + name + "): " + rounds + " rounds, " + nobodyFreed
                    + " blocks both racers' frees refused");
        }
    }

    /** Allocates far more than the race touched, writes each block's own address in it, and reads every one back. */
    private static void handsOutDistinctBlocks(Heap heap) {
        int count = BLOCKS * 8;
        long[] blocks = new long[count];
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < count; i++) {
            blocks[i] = heap.malloc(16 + (i % 4) * 16);
            assertTrue(seen.add(blocks[i]), "block handed out twice: 0x" + Long.toHexString(blocks[i]));
            Blocks.fill(blocks[i], 16, blocks[i]);
        }
        for (int i = 0; i < count; i++) {
            Blocks.check(blocks[i], 16, blocks[i]);
            heap.free(blocks[i]);
        }
    }

    /** Frees each address with {@code free}; marks in {@code accepted} the frees that were accepted. */
    private static void freeAll(long[] addresses, java.util.function.LongConsumer free, boolean[] accepted) {
        for (int i = 0; i < addresses.length; i++) {
            try {
                free.accept(addresses[i]);
                accepted[i] = true;
            } catch (IllegalArgumentException expected) {
                accepted[i] = false; // the other racer's free came first, as far as the bits could tell
            }
        }
    }
}
