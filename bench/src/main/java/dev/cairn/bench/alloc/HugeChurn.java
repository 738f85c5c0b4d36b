package dev.cairn.bench.alloc;

import dev.cairn.bench.peer.Peer;
import dev.cairn.bench.peer.PeerSpec;
import dev.cairn.bench.peer.PeerThread;
import dev.cairn.bench.peer.Peers;

/**
 * One thread allocates a block too big for any page (a huge block: its own segment in Cairn), writes its first and
 * last byte, and frees it, over and over: a large buffer's churn, as mimalloc-bench's malloc-large does with blocks of
 * 5 to 25 MiB. Prints the time per malloc+write+free for each round; the last rounds are the warm figure.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.cairn.bench.alloc.HugeChurn
 *     PEER [block bytes] [cycles per round] [rounds]</pre>
 */
public final class HugeChurn {

    private HugeChurn() {
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: HugeChurn PEER [block bytes] [cycles per round] [rounds]");
            System.exit(2);
        }
        PeerSpec spec = Peers.byName(args[0]).orElseThrow(() -> new IllegalArgumentException("no peer " + args[0]));
        long size = args.length > 1 ? Long.parseLong(args[1]) : 1_000_000;
        int cycles = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        try (Peer peer = spec.create()) {
            PeerThread thread = peer.forThread();
            for (int round = 1; round <= rounds; round++) {
                long start = System.nanoTime();
                for (int i = 0; i < cycles; i++) {
                    long block = thread.malloc(size);
                    thread.putByte(block, 0, (byte) i);
                    thread.putByte(block, size - 1, (byte) i);
                    thread.free(block);
                }
                double micros = (System.nanoTime() - start) / 1e3 / cycles;
                System.out.printf("round %d: %s %.2f us per malloc+write+free of %d bytes%n", round, spec.name(),
                        micros, size);
            }
            thread.detach();
        }
    }
}
