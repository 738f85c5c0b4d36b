package dev.cairn.runtime;

import java.util.Map;

/**
 * What destroying an interpreter found: objects still alive (leaked: not immortal, still referenced) by type name,
 * and the bytes returned.
 *
 * @param interpreterId the destroyed interpreter
 * @param leakedObjects objects that were still alive, freed by the destruction
 * @param leakedByType the same count by type name
 * @param bytesReturned usable bytes of every block of this interpreter freed by the destruction (objects and
 *                      buffers), or of the whole own allocator when it had one
 */
public record DestroyReport(long interpreterId, long leakedObjects, Map<String, Long> leakedByType,
        long bytesReturned) {

    public DestroyReport {
        leakedByType = Map.copyOf(leakedByType);
    }
}
