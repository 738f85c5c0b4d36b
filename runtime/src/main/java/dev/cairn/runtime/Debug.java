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
 * <tr><td>{@code cairn.runtime.yieldInInit}</td><td>object creation yields between writing the header and publishing
 * its magic ({@code ObjectLayout.init}), widening the window in which another interpreter's collection walks the
 * block ({@code SharedAllocatorGcProbeTest} turns it on in a child JVM)</td></tr>
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
