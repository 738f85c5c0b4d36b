/**
 * Implementation of segments: the {@link dev.cairn.segments.internal.OsMemory} contract with its Linux (mmap) and
 * portable (JDK arena) implementations, the libc downcalls, commit maps and counters. Not exported.
 */
package dev.cairn.segments.internal;
