/** Which segment owns an address: a lock-free radix tree over the user address space. */
module dev.cairn.radix {
    exports dev.cairn.radix;
}
