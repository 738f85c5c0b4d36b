package dev.cairn.alloc;

import java.time.Duration;

/**
 * {@link MimallocApiTest} unchecked, with freed blocks filled and retired pages purged at once: what a user tuning
 * for speed or debugging turns on. The probes of misuse are skipped (unchecked mode does not refuse it), and what
 * checked mode proves of freed blocks (isLive) is not asked.
 */
class MimallocApiUncheckedTest extends MimallocApiTest {

    @Override
    AllocatorConfig config() {
        return AllocatorConfig.builder().checked(false).freeFill(0xDB).purgeDelay(Duration.ZERO).build();
    }
}
