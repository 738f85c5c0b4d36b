/**
 * Quiescent-state-based reclamation: free shared memory once no lock-free reader can still hold it.
 *
 * <p>Vocabulary, used the same way in every type here:
 * <ul>
 *   <li><b>domain</b> ({@link dev.cairn.reclaim.Qsbr}): one set of threads that share structures, typically one
 *       allocator. Domains are independent.</li>
 *   <li><b>online</b> / <b>offline</b>: a registered thread is online (attached) while it may hold references
 *       into shared structures, offline (detached) while it holds none. Only online threads hold reclamation
 *       back.</li>
 *   <li><b>quiescent point</b>: a moment an online thread declares it holds no reference
 *       ({@link dev.cairn.reclaim.QsbrThread#quiescent()}).</li>
 *   <li><b>goal</b>: an odd {@code long} from {@link dev.cairn.reclaim.Qsbr#advance()} or
 *       {@link dev.cairn.reclaim.QsbrThread#deferredAdvance()}; <b>reached</b> once every online thread has
 *       passed a quiescent point after it was taken.</li>
 *   <li><b>defer</b>: queue an address or a task to run once a goal is reached.</li>
 * </ul>
 *
 * <p>Rules for the whole package:
 * <ul>
 *   <li>Addresses are plain {@code long}s; this package never reads or writes the memory behind them, it only
 *       hands them to the domain's free function ({@link dev.cairn.reclaim.QsbrConfig#free()}).</li>
 *   <li>Sizes are in bytes and never negative. Sequence numbers and goals are 64-bit and do not wrap in
 *       practice.</li>
 *   <li>No method accepts or returns {@code null} unless its documentation says so; a null argument throws
 *       {@link java.lang.NullPointerException}.</li>
 *   <li>A {@link dev.cairn.reclaim.Qsbr} may be used from any thread. A {@link dev.cairn.reclaim.QsbrThread} is
 *       confined to the thread that registered it: other threads get {@link java.lang.WrongThreadException}.</li>
 *   <li>Misuse (a goal from elsewhere, a handle after unregistering, a state change that is already in effect)
 *       throws {@link java.lang.IllegalArgumentException} or {@link java.lang.IllegalStateException} at once,
 *       before any state changes.</li>
 * </ul>
 *
 * <p>The protocol is described in the comment at the top of {@code Qsbr.java} and, in full, in the module's
 * {@code docs/design/qsbr.md}.
 */
package dev.cairn.reclaim;
