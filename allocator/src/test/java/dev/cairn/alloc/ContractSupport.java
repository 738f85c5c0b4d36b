package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.function.Executable;

/**
 * What the issue contract tests share: a view of raw memory through the public FFM API, content patterns that catch
 * overlapping blocks, and the checks a new user would write around each call (the heap is left as it was, the walk
 * sees exactly the live blocks). Nothing here reaches into the allocator's internals.
 */
final class ContractSupport {

    static final long KiB = 1024;
    static final long MiB = 1024 * KiB;

    private ContractSupport() {
    }

    @SuppressWarnings("restricted")
    static MemorySegment at(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    /** Word {@code i} of a block stamped with {@code seed}: depends on both, so a shifted copy is caught. */
    static long word(long seed, long i) {
        long x = (seed + 1) * 0x9E3779B97F4A7C15L ^ (i + 1) * 0xBF58476D1CE4E5B9L;
        return x ^ (x >>> 31);
    }

    /** Byte {@code i} of the pattern, as the little-endian word that covers it: a prefix checks as stamped. */
    static byte tailByte(long seed, long i) {
        return (byte) (word(seed, i >>> 3) >>> ((i & 7) * 8));
    }

    /** Writes every byte of {@code [0, size)}: a word pattern, then the tail byte by byte. */
    static void stamp(long address, long size, long seed) {
        MemorySegment block = at(address, size);
        long words = size >>> 3;
        for (long i = 0; i < words; i++) {
            block.set(ValueLayout.JAVA_LONG_UNALIGNED, i << 3, word(seed, i));
        }
        for (long i = words << 3; i < size; i++) {
            block.set(ValueLayout.JAVA_BYTE, i, tailByte(seed, i));
        }
    }

    /** Checks the first {@code size} bytes of a block stamped with {@code seed} (possibly with a larger size). */
    static void verify(long address, long size, long seed) {
        MemorySegment block = at(address, size);
        long words = size >>> 3;
        for (long i = 0; i < words; i++) {
            long actual = block.get(ValueLayout.JAVA_LONG_UNALIGNED, i << 3);
            if (actual != word(seed, i)) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + " (seed " + seed + "): word " + i
                        + " of " + words + " is " + Long.toHexString(actual) + ", expected "
                        + Long.toHexString(word(seed, i)) + " (overlap or corruption)");
            }
        }
        for (long i = words << 3; i < size; i++) {
            byte actual = block.get(ValueLayout.JAVA_BYTE, i);
            if (actual != tailByte(seed, i)) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + " (seed " + seed + "): byte " + i
                        + " is " + actual + " (overlap or corruption)");
            }
        }
    }

    static void assertAllBytes(long address, long size, byte expected, String what) {
        MemorySegment block = at(address, size);
        long words = size >>> 3;
        long expectedWord = (expected & 0xFFL) * 0x0101010101010101L;
        for (long i = 0; i < words; i++) {
            if (block.get(ValueLayout.JAVA_LONG_UNALIGNED, i << 3) != expectedWord) {
                throw new AssertionError(what + ": word at offset " + (i << 3) + " of 0x" + Long.toHexString(address)
                        + " (" + size + " bytes) is " + Long.toHexString(block.get(ValueLayout.JAVA_LONG_UNALIGNED,
                        i << 3)) + ", expected " + Long.toHexString(expectedWord));
            }
        }
        for (long i = words << 3; i < size; i++) {
            if (block.get(ValueLayout.JAVA_BYTE, i) != expected) {
                throw new AssertionError(what + ": byte " + i + " of 0x" + Long.toHexString(address) + " is "
                        + block.get(ValueLayout.JAVA_BYTE, i));
            }
        }
    }

    static void assertZero(long address, long size, String what) {
        assertAllBytes(address, size, (byte) 0, what);
    }

    /** Every live block the walk reports, address to usable size; a block reported twice fails. */
    static Map<Long, Long> walk(Allocator allocator) {
        Map<Long, Long> seen = new HashMap<>();
        allocator.visitBlocks((address, usable, sizeClass, heapId) -> {
            Long before = seen.put(address, usable);
            if (before != null) {
                throw new AssertionError("block 0x" + Long.toHexString(address) + " visited twice");
            }
            return true;
        });
        return seen;
    }

    /**
     * The call is refused with an IllegalArgumentException naming {@code address} in hex, and the heap is left as
     * it was: same blocks in use, same bytes, validate passes, and it still allocates.
     */
    static IllegalArgumentException assertRefused(Allocator allocator, long address, Executable call) {
        AllocatorStats before = allocator.stats();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                "a bad address 0x" + Long.toHexString(address) + " must be refused");
        assertTrue(e.getMessage() != null && e.getMessage().contains("0x" + Long.toHexString(address)),
                "the message names the address 0x" + Long.toHexString(address) + ": " + e.getMessage());
        AllocatorStats after = allocator.stats();
        assertEquals(before.blocksInUse(), after.blocksInUse(), "blocks in use after a refusal: " + e.getMessage());
        assertEquals(before.allocatedBytes(), after.allocatedBytes(), "bytes in use after a refusal");
        allocator.validate();
        long p = allocator.malloc(24);
        stamp(p, 24, 7);
        verify(p, 24, 7);
        allocator.free(p);
        return e;
    }

    /** Runs {@code body} on a new platform thread and waits for it; its failure becomes the caller's. */
    static void onThread(ThrowingRunnable body) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        join(thread);
        if (failure.get() != null) {
            throw new AssertionError("the other thread failed: " + failure.get(), failure.get());
        }
    }

    static void join(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Resident memory of this process, from /proc/self/statm (Linux); -1 where it cannot be read. */
    static long rssBytes() {
        try {
            String[] fields = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(fields[1]) * 4096;
        } catch (IOException | UncheckedIOException | NumberFormatException e) {
            return -1;
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Throwable;
    }
}
