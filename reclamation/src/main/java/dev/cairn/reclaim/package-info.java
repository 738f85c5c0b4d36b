/** Quiescent-state-based reclamation: free shared memory once no lock-free reader can still hold it. */
package dev.cairn.reclaim;
