package dev.cairn.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ParamsTest {
    private final Workload larson = new LarsonWorkload();

    @Test
    void presetsAndOverrides() {
        Params quick = Params.of("larson", larson.params(), ParamSpec.Preset.QUICK, Map.of("slots", 7L), true);
        assertEquals(7, quick.get("slots"));
        assertEquals(larson.params().get(1).quick(), quick.get("steps"));
        Params full = Params.of("larson", larson.params(), ParamSpec.Preset.FULL, Map.of(), true);
        assertEquals(larson.params().get(1).full(), full.get("steps"));
    }

    @Test
    void unknownKeysAreRefusedWhenStrictAndIgnoredOtherwise() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Params.of("larson", larson.params(), ParamSpec.Preset.QUICK, Map.of("ops", 1L), true));
        assertTrue(e.getMessage().startsWith("workload larson has no parameter 'ops'; it has: slots, steps"),
                e.getMessage());
        Params lenient = Params.of("larson", larson.params(), ParamSpec.Preset.QUICK, Map.of("ops", 1L), false);
        assertThrows(IllegalArgumentException.class, () -> lenient.get("ops"));
    }

    @Test
    void outOfRangeValuesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Params.of("larson", larson.params(), ParamSpec.Preset.QUICK, Map.of("slots", 0L), true));
        assertEquals("workload larson: slots=0 is outside [1, 16777216]", e.getMessage());
    }

    @Test
    void maxBelowMinIsRefusedWithTheParameters() {
        // Refused by Params, so scripts/bench stops before running instead of failing in every child JVM.
        Workload pairs = new PairsWorkload();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Params.of("pairs",
                pairs.params(), ParamSpec.Preset.SMOKE, Map.of("minSize", 64L, "maxSize", 32L), true));
        assertEquals("workload pairs: maxSize 32 is below minSize 64", e.getMessage());
        // Also when only one side is overridden, against the preset's other side.
        e = assertThrows(IllegalArgumentException.class, () -> Params.of("batch", new BatchWorkload().params(),
                ParamSpec.Preset.QUICK, Map.of("minSize", 2000L), false));
        assertEquals("workload batch: maxSize 1024 is below minSize 2000", e.getMessage());
        // Any minX/maxX pair, not only minSize/maxSize.
        e = assertThrows(IllegalArgumentException.class, () -> Params.of("malloc-large",
                new MallocLargeWorkload().params(), ParamSpec.Preset.QUICK, Map.of("maxBuffer", 1000L), true));
        assertEquals("workload malloc-large: maxBuffer 1000 is below minBuffer 5242880", e.getMessage());
    }
}
