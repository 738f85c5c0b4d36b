/** Quiescent-state-based reclamation (QSBR) and deferred frees. */
module dev.cairn.reclaim {
    exports dev.cairn.reclaim;
}
