package dev.cairn.bench.stress;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/** The reference peers of a workload's table and the time ratios against them. */
final class Ratios {
    private Ratios() {
    }

    /** The fastest peer that ran. */
    static Optional<Cell> best(List<Cell> rows) {
        return rows.stream().filter(Cell::ok).min((a, b) -> Double.compare(a.medianMillis(), b.medianMillis()));
    }

    /** Native mimalloc: the C floor when it ran for this workload, else mimalloc through FFM. */
    static Optional<Cell> mimallocReference(List<Cell> rows) {
        Optional<Cell> floor = rows.stream().filter(c -> c.ok() && c.peer().equals("c-mimalloc")).findFirst();
        return floor.isPresent() ? floor
                : rows.stream().filter(c -> c.ok() && c.peer().equals("mimalloc")).findFirst();
    }

    /** This cell's median time over the reference's (2.0 = twice as slow); empty without a reference. */
    static OptionalDouble ratio(Cell cell, Optional<Cell> reference) {
        if (reference.isEmpty() || !cell.ok() || reference.get().medianMillis() == 0) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(cell.medianMillis() / reference.get().medianMillis());
    }

    static String format(OptionalDouble ratio) {
        return ratio.isPresent() ? String.format(Locale.ROOT, "%.2f", ratio.getAsDouble()) : "";
    }
}
