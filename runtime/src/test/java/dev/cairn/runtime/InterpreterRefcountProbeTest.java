package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Reference counts of interpreter handles: only API-made interpreters die with their last reference. */
class InterpreterRefcountProbeTest {

    @Test
    void theMainAndAdoptedInterpretersCanBeAcquiredAgainAfterTheirLastRelease() {
        try (Runtime rt = Runtime.create()) {
            for (Interpreter in : new Interpreter[] {rt.mainInterpreter(),
                rt.adoptInterpreter(InterpreterConfig.isolated())}) {
                assertTrue(in.release().isEmpty());
                assertFalse(in.isDestroyed());
                // alive, so acquire must work; it threw "interpreter N is destroyed"
                assertSame(in, in.acquire());
                assertTrue(in.release().isEmpty());
                assertThrows(IllegalStateException.class, in::release, "no reference left");
                assertFalse(in.isDestroyed());
            }
            try (ThreadState ts = rt.mainInterpreter().newThreadState()) {
                Ref.decref(ts, Strs.of(ts, "still runs"));
            }
        }
    }
}
