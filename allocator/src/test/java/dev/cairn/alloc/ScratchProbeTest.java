package dev.cairn.alloc;

import static dev.cairn.alloc.ContractSupport.*;
import java.lang.foreign.*;
import java.time.Duration;
import java.util.*;
import org.junit.jupiter.api.Test;

class ScratchProbeTest {
    @Test
    void arenaCost() throws Exception {
        try (Allocator allocator = Allocator.create()) {
            for (int round = 0; round < 8; round++) {
                long t1 = System.nanoTime();
                for (int i = 0; i < 5000; i++) { try (Arena a = allocator.newArena()) { } }
                long t2 = System.nanoTime();
                for (int i = 0; i < 5000; i++) { try (Arena a = allocator.newArena()) { a.allocate(32); } }
                long t3 = System.nanoTime();
                for (int i = 0; i < 5000; i++) { try (Arena a = Arena.ofConfined()) { a.allocate(32); } }
                long t4 = System.nanoTime();
                System.out.printf("empty %.1f us, one alloc %.1f us, jdk %.1f us%n", (t2 - t1) / 5e6, (t3 - t2) / 5e6, (t4 - t3) / 5e6);
            }
        }
    }
}
