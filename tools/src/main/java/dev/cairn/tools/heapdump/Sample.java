package dev.cairn.tools.heapdump;

/** A sampled block: its address, requested size, site id and allocating heap. */
public record Sample(long address, long size, int site, int heapId) {
}
