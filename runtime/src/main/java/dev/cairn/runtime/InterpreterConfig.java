package dev.cairn.runtime;

import dev.cairn.alloc.AllocatorConfig;
import java.util.Objects;

/**
 * How an interpreter gets its memory.
 *
 * @param ownAllocator true: an allocator of its own (isolated segments, abandoned pool and QSBR domain), closed
 *                     when the interpreter is destroyed; false: the main interpreter's allocator, shared
 * @param allocatorConfig the own allocator's configuration (ignored when shared)
 */
public record InterpreterConfig(boolean ownAllocator, AllocatorConfig allocatorConfig) {

    public InterpreterConfig {
        Objects.requireNonNull(allocatorConfig, "allocatorConfig");
    }

    /** An interpreter with an allocator of its own, configured from system properties. */
    public static InterpreterConfig isolated() {
        return new InterpreterConfig(true, AllocatorConfig.fromSystemProperties());
    }

    /** An interpreter on the main interpreter's allocator. */
    public static InterpreterConfig sharedAllocator() {
        return new InterpreterConfig(false, AllocatorConfig.fromSystemProperties());
    }
}
