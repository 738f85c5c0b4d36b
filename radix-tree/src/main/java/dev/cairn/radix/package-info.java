/**
 * The address map: for any address, the value of the segment that owns it, read without locks.
 *
 * <p>Blanket rules for this package: addresses and sizes are {@code long} byte counts; an address is "user space"
 * when {@code 0 <= address < }{@link dev.cairn.radix.AddressMap#USER_ADDRESS_LIMIT}; bad arguments throw
 * {@link java.lang.IllegalArgumentException} and operations that conflict with the current contents throw
 * {@link java.lang.IllegalStateException}, both naming the numbers involved in hex and both leaving the map
 * unchanged. Lookups never throw. Every class is safe to use from any thread.
 */
package dev.cairn.radix;
