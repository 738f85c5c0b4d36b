/**
 * Segments: memory obtained from the operating system in aligned, power-of-two sized pieces.
 *
 * <p>Blanket rules for this package: addresses and sizes are {@code long} byte counts; {@code null} arguments throw
 * {@link java.lang.NullPointerException}; bad sizes or alignments throw {@link java.lang.IllegalArgumentException};
 * the operating system refusing memory throws {@link java.lang.OutOfMemoryError} naming the size asked for. All
 * classes are safe to use from any thread unless their documentation says otherwise.
 */
package dev.cairn.segments;
