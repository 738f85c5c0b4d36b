package dev.cairn.runtime;

/**
 * The runtime's debug switches, read once from system properties (the JIT folds them away when off).
 *
 * <table>
 * <caption>Switches</caption>
 * <tr><th>property</th><th>effect</th></tr>
 * <tr><td>{@code cairn.runtime.yieldInReads}</td><td>lock-free readers yield between loading an item's address and
 * increfing it, widening the window in which a writer may replace it (the tests turn it on, so a missing grace
 * period shows up as a freed read)</td></tr>
 * </table>
 */
final class Debug {

    static final boolean YIELD_IN_READS = Boolean.getBoolean("cairn.runtime.yieldInReads");

    private Debug() {
    }

    /** Called by lock-free readers between the load of an item and its incref. */
    static void readWindow() {
        if (YIELD_IN_READS) {
            Thread.yield();
        }
    }
}
