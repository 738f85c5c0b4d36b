/** The address map: for any address, the value of the segment that owns it, read without locks. */
package dev.cairn.radix;
