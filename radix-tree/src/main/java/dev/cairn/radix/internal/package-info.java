/**
 * Internals of the address map: layout arithmetic. Not exported; the public API is {@link dev.cairn.radix.AddressMap}.
 */
package dev.cairn.radix.internal;
