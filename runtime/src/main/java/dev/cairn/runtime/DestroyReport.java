package dev.cairn.runtime;

import java.util.Map;

/**
 * What destroying an interpreter found: objects still alive (leaked: not immortal, still referenced) by type name,
 * and the bytes returned.
 *
 * @param interpreterId the destroyed interpreter
 * @param leakedObjects objects that were still alive, freed by the destruction
 * @param leakedByType the same count by type name
 * @param bytesReturned usable bytes of the blocks (objects and live buffers) still held by this interpreter when
 *                      it was destroyed, after its last collection; they are freed (shared allocator) or go back
 *                      with the whole own allocator, which is closed
 */
public record DestroyReport(long interpreterId, long leakedObjects, Map<String, Long> leakedByType,
        long bytesReturned) {

    public DestroyReport {
        leakedByType = Map.copyOf(leakedByType);
    }
}
