package dev.cairn.bench.peer;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A peer that can be named on the command line: how to build it, whether it can run here, and what its forked JVM
 * needs.
 *
 * @param name the command-line name
 * @param family how the chart colours it
 * @param description one line for {@code --help} and the docs
 * @param crossThread whether a block may be freed by a thread other than the one that allocated it
 * @param jvmFlags extra flags for this peer's forked JVM only
 * @param environment extra environment variables for this peer's forked JVM only
 * @param unavailable the one-line reason it cannot run here, or empty when it can
 * @param factory builds the peer
 */
public record PeerSpec(String name, Family family, String description, boolean crossThread, List<String> jvmFlags,
        Map<String, String> environment, Supplier<Optional<String>> unavailable, Supplier<Peer> factory) {

    /** Groups of peers, for colours and for "the best JVM-callable peer". */
    public enum Family {
        CAIRN, NATIVE_FFM, JVM, NATIVE_C
    }

    public PeerSpec {
        jvmFlags = List.copyOf(jvmFlags);
        environment = Map.copyOf(environment);
    }

    /** Why this peer cannot run on this machine, in one line; empty when it can. */
    public Optional<String> unavailableReason() {
        return unavailable.get();
    }

    public Peer create() {
        return factory.get();
    }
}
