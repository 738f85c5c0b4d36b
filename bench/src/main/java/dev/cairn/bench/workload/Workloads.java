package dev.cairn.bench.workload;

import java.util.List;
import java.util.Optional;

/** Every workload, in the order reports list them. */
public final class Workloads {
    private static final List<Workload> ALL = List.of(new PairsWorkload(), new BatchWorkload(),
            new Sh6benchWorkload(), new XmallocWorkload(), new LarsonWorkload(), new CacheScratchWorkload(),
            new StressMixWorkload(), new CacheThrashWorkload(), new GlibcThreadWorkload(), new MallocLargeWorkload(),
            new RptestWorkload(), new Sh8benchWorkload(), new MleakWorkload(), new GlibcSimpleWorkload(), new AllocTestWorkload(),
            LarsonWorkload.virtual());

    private Workloads() {
    }

    public static List<Workload> all() {
        return ALL;
    }

    public static Optional<Workload> byName(String name) {
        return ALL.stream().filter(w -> w.name().equals(name)).findFirst();
    }
}
