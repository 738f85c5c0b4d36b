package dev.cairn.reclaim.internal;

/**
 * The encoding of QSBR sequence numbers, defined once.
 *
 * <table>
 *   <caption>Values</caption>
 *   <tr><th>value</th><th>where</th><th>meaning</th></tr>
 *   <tr><td>{@link #OFFLINE} = 0</td><td>a thread's slot</td>
 *       <td>the thread is detached (or not yet attached): it holds no reference and blocks nobody</td></tr>
 *   <tr><td>{@link #INITIAL} = 1</td><td>write sequence</td>
 *       <td>the first value; nothing has been advanced yet</td></tr>
 *   <tr><td>odd, &ge; 1</td><td>write sequence, slots, goals</td>
 *       <td>the write sequence moves by {@link #INCR} = 2, so every valid sequence is odd and never equals
 *       {@code OFFLINE}; an even goal cannot have come from this domain</td></tr>
 *   <tr><td>{@link #NEVER} = {@code Long.MAX_VALUE}</td><td>a thread's "next due" mark</td>
 *       <td>no deferred item is waiting</td></tr>
 * </table>
 *
 * <p>Sequences are signed 64-bit longs compared with plain {@code <}/{@code <=}. They cannot wrap in practice:
 * at one advance per nanosecond the write sequence needs about 73 years to reach {@code Long.MAX_VALUE / 2}, so
 * the wrap-safe difference comparisons that FreeBSD needs for its 32-bit sequences are not used.
 */
public final class Seq {

    /** A slot's value while its thread is offline (detached) or gone. */
    public static final long OFFLINE = 0;

    /** The write sequence of a new domain. */
    public static final long INITIAL = 1;

    /** The step of every advance; keeps every sequence odd. */
    public static final long INCR = 2;

    /** "Nothing due": larger than every sequence a domain can reach. */
    public static final long NEVER = Long.MAX_VALUE;

    private Seq() {
    }

    /** Whether {@code value} has the shape of a goal: odd and at least {@link #INITIAL}. */
    public static boolean isGoalShaped(long value) {
        return value >= INITIAL && (value & 1) == 1;
    }
}
