/**
 * Cairn's allocator: {@code malloc}/{@code free} of off-heap memory through {@code long} addresses, plus FFM
 * {@link java.lang.foreign.Arena} and {@link java.lang.foreign.SegmentAllocator} adapters.
 *
 * <p>Blanket rules: addresses and sizes are {@code long} byte counts; address 0 is C's {@code NULL}. An
 * {@link dev.cairn.alloc.Allocator} is a domain: its memory, heaps and segments never mix with another allocator's.
 * In checked mode (the default) every address a caller passes in is proven to be the start of a live block of this
 * allocator before it is touched; anything else gets an {@link java.lang.IllegalArgumentException} naming the
 * address and the reason, and the heap is left as it was. One limit: a double free made by a block's owner thread and
 * another thread at the same instant may see both calls return normally (the owner's free has no atomic to order
 * them); the block is still freed once, counted once and handed out once (docs/design/allocator.md, section 5).
 * Sizes that are negative, {@code calloc} products that
 * overflow and alignments that are not powers of two get an {@code IllegalArgumentException}; no memory gets an
 * {@link java.lang.OutOfMemoryError} naming the size; any call after {@code close()} that would touch memory gets an
 * {@link java.lang.IllegalStateException} (the no-ops stay no-ops: {@code free(0)}, {@code freeDelayed(0)},
 * {@code close()}; {@code config()} still answers), and so does a call already under way on another thread when
 * {@code close()} runs, unless it completes first. Unchecked mode skips these checks for speed and is unsafe: a bad address
 * may corrupt the heap or crash the JVM.
 *
 * <p>Threads: an {@code Allocator} may be used from any thread; each thread allocates from its own
 * {@link dev.cairn.alloc.Heap}, and a block may be freed by any thread. A {@code Heap} object belongs to the thread
 * that obtained it.
 */
package dev.cairn.alloc;
