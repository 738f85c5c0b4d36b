package dev.cairn.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The workloads' checks catch allocators that misbehave: blocks handed out twice, writes that do not stick. */
class BlockCheckTest {

    /** A toy allocator over Java arrays; {@code overlapEvery} > 0 makes every n-th malloc return the previous block. */
    private static final class ToyPeer implements Peer {
        private final Map<Long, byte[]> blocks = new ConcurrentHashMap<>();
        private final Set<Long> live = ConcurrentHashMap.newKeySet();
        private final int overlapEvery;
        private final boolean dropWrites;
        private long next = 16;
        private long last;
        private int count;

        ToyPeer(int overlapEvery, boolean dropWrites) {
            this.overlapEvery = overlapEvery;
            this.dropWrites = dropWrites;
        }

        @Override
        public String name() {
            return "toy";
        }

        @Override
        public PeerThread forThread() {
            return new PeerThread() {
                @Override
                public synchronized long malloc(long size) {
                    synchronized (ToyPeer.this) {
                        if (overlapEvery > 0 && ++count % overlapEvery == 0 && last != 0 && live.contains(last)
                                && blocks.get(last).length >= size) {
                            return last; // the bug under test: a live block handed out again
                        }
                        long handle = next;
                        next += 16;
                        blocks.put(handle, new byte[(int) size]);
                        live.add(handle);
                        last = handle;
                        return handle;
                    }
                }

                @Override
                public void free(long handle) {
                    live.remove(handle);
                }

                @Override
                public void putByte(long handle, long offset, byte value) {
                    if (!dropWrites) {
                        blocks.get(handle)[(int) offset] = value;
                    }
                }

                @Override
                public byte getByte(long handle, long offset) {
                    return blocks.get(handle)[(int) offset];
                }
            };
        }

        @Override
        public void close() {
        }
    }

    private static Params smoke(Workload w) {
        return Params.of(w.name(), w.params(), ParamSpec.Preset.SMOKE, new HashMap<>(), true);
    }

    @Test
    void aCorrectToyAllocatorPasses() throws InterruptedException {
        Workload batch = new BatchWorkload();
        WorkloadResult result = batch.run(new ToyPeer(0, false), 1, smoke(batch));
        assertEquals(result.mallocs(), result.frees());
    }

    @Test
    void aBlockHandedOutTwiceIsCaught() {
        Workload batch = new BatchWorkload();
        BlockCheck.BlockCorruptedException e = assertThrows(BlockCheck.BlockCorruptedException.class,
                () -> batch.run(new ToyPeer(7, false), 1, smoke(batch)));
        assertTrue(e.getMessage().contains("was overwritten"), e.getMessage());
    }

    @Test
    void writesThatDoNotStickAreCaught() {
        Workload pairs = new PairsWorkload();
        assertThrows(BlockCheck.BlockCorruptedException.class,
                () -> pairs.run(new ToyPeer(0, true), 1, smoke(pairs)));
    }

    @Test
    void oneByteBlocksHoldTheirTag() {
        ToyPeer peer = new ToyPeer(0, false);
        PeerThread view = peer.forThread();
        Tally tally = new Tally();
        long handle = BlockCheck.mallocFilled(view, 1, tally);
        BlockCheck.checkAndFree(view, handle, 1, tally);
        assertEquals(1, tally.frees());
    }
}
