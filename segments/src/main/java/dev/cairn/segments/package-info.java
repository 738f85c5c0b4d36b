/**
 * Segments: memory obtained from the operating system in aligned, power-of-two sized pieces.
 *
 * <p>Vocabulary: a <em>segment</em> is reserved address space ({@link dev.cairn.segments.Segment}); to
 * <em>commit</em> is to make part of it usable memory, to <em>purge</em> is to let the OS take back the pages while
 * keeping the range usable, to <em>decommit</em> is to purge and make the range inaccessible, to <em>release</em> is
 * to return the address space. A <em>commit unit</em> is the granularity all three are tracked in.
 * {@link dev.cairn.segments.SegmentSpace} owns the rules; {@link dev.cairn.segments.SegmentConfig} the choices.
 *
 * <p>Blanket rules for this package: addresses and sizes are {@code long} byte counts; {@code null} arguments throw
 * {@link java.lang.NullPointerException}; bad sizes or alignments throw {@link java.lang.IllegalArgumentException};
 * the operating system refusing memory throws {@link java.lang.OutOfMemoryError} naming the size asked for. All
 * classes are safe to use from any thread unless their documentation says otherwise.
 */
package dev.cairn.segments;
