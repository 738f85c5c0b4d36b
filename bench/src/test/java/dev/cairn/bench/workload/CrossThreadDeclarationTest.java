package dev.cairn.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerThread;
import dev.cairn.bench.peer.Peers;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A workload's {@link Workload#crossThread()} says whether it frees blocks on other threads than their allocating
 * one; the runner skips peers that cannot (arena-confined) on that word alone. So a workload that says false must
 * free every block on its own thread, and one that says true must really hand blocks over.
 */
class CrossThreadDeclarationTest {

    static java.util.stream.Stream<String> workloads() {
        return Workloads.all().stream().map(Workload::name);
    }

    @ParameterizedTest
    @MethodSource("workloads")
    void freesAcrossThreadsExactlyWhenItSaysSo(String name) throws InterruptedException {
        Workload workload = Workloads.byName(name).orElseThrow();
        Params params = Params.of(name, workload.params(), ParamSpec.Preset.SMOKE, Map.of(), true);
        try (OwnerTrackingPeer peer = new OwnerTrackingPeer(Peers.byName("byte-array").orElseThrow().create())) {
            WorkloadResult result = workload.run(peer, 2, params);
            assertEquals(result.mallocs(), peer.frees.get(), "every free seen");
            if (workload.crossThread()) {
                assertTrue(peer.remoteFrees.get() > 0, name + " says it frees across threads but never did");
            } else {
                assertEquals(0, peer.remoteFrees.get(), name + " says it does not free across threads");
            }
        }
    }

    /** Remembers which thread allocated each live block and counts frees by any other thread. */
    private static final class OwnerTrackingPeer implements Peer {
        private final Peer delegate;
        private final Map<Long, Thread> owners = new ConcurrentHashMap<>();
        final AtomicLong frees = new AtomicLong();
        final AtomicLong remoteFrees = new AtomicLong();

        OwnerTrackingPeer(Peer delegate) {
            this.delegate = delegate;
        }

        @Override
        public String name() {
            return "owner-tracking " + delegate.name();
        }

        @Override
        public PeerThread forThread() {
            PeerThread view = delegate.forThread();
            return new PeerThread() {
                @Override
                public long malloc(long size) {
                    long handle = view.malloc(size);
                    owners.put(handle, Thread.currentThread());
                    return handle;
                }

                @Override
                public void free(long handle) {
                    // Forgotten before the real free, which may hand the same handle to another thread at once.
                    Thread owner = owners.remove(handle);
                    frees.incrementAndGet();
                    if (owner != Thread.currentThread()) {
                        remoteFrees.incrementAndGet();
                    }
                    view.free(handle);
                }

                @Override
                public void putByte(long handle, long offset, byte value) {
                    view.putByte(handle, offset, value);
                }

                @Override
                public byte getByte(long handle, long offset) {
                    return view.getByte(handle, offset);
                }

                @Override
                public void detach() {
                    view.detach();
                }
            };
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
