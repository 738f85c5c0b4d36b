/**
 * Cairn's small object runtime: {@link dev.cairn.runtime.Runtime}, {@link dev.cairn.runtime.Interpreter},
 * {@link dev.cairn.runtime.ThreadState}, and static APIs over object addresses ({@link dev.cairn.runtime.Ref},
 * {@link dev.cairn.runtime.Ints}, {@link dev.cairn.runtime.Floats}, {@link dev.cairn.runtime.Strs},
 * {@link dev.cairn.runtime.Bytes}, {@link dev.cairn.runtime.Tuples}, {@link dev.cairn.runtime.Lists},
 * {@link dev.cairn.runtime.Dicts}, {@link dev.cairn.runtime.Types}, {@link dev.cairn.runtime.Instances},
 * {@link dev.cairn.runtime.Gc}).
 *
 * <p>Rules for the whole package:
 * <ul>
 * <li>Objects are {@code long} addresses of off-heap blocks; nothing per object lives on the Java heap.</li>
 * <li>Every operation takes the calling thread's attached {@link dev.cairn.runtime.ThreadState} first. Operations
 *     that return an object return a <em>new reference</em> (the caller decrefs it), except
 *     {@link dev.cairn.runtime.Types#typeOf}, which is borrowed. Operations that store an object take their own
 *     reference; the caller keeps its own.</li>
 * <li>Bad input gets an exception, built in one place: an address that is not a live object of the thread
 *     state's interpreter (or a runtime immortal) → {@link java.lang.IllegalArgumentException}; the wrong type →
 *     {@code IllegalArgumentException}; a closed, detached or foreign thread state, or a destroyed interpreter →
 *     {@link java.lang.IllegalStateException} or {@link java.lang.WrongThreadException}. {@code Ref.incref} and
 *     {@code Ref.decref} check too, with a checked allocator (the default); with an unchecked one they trust their
 *     argument, to stay a few instructions. An unchecked allocator keeps no live-block bitmaps, so there the typed
 *     APIs prove only that the address lies in one of its segments: an address inside a segment that is no object
 *     (an interior pointer, a part never committed) may then crash the JVM. Untrusted addresses need checked
 *     mode.</li>
 * <li>Long-running loops call {@link dev.cairn.runtime.ThreadState#checkpoint()}; blocking calls are made
 *     detached.</li>
 * </ul>
 */
package dev.cairn.runtime;
