package dev.cairn.reclaim.internal;

import java.lang.ref.Cleaner;

/**
 * The backstop for threads that end while registered: a {@link Cleaner} that runs an action once a registered
 * {@link Thread} object becomes unreachable, which only happens after the thread has ended.
 *
 * <p>The primary detection is {@link Thread#isAlive()}, checked on the slow paths (a scan that finds a slot
 * blocking a goal, registration, {@code synchronize()}, {@code close()}); this catches dead threads that sit
 * detached and block nobody but still hold deferred items. The action must not reach the thread strongly, or the
 * thread would never become unreachable; slots only keep a weak reference.
 */
final class ThreadExits {

    private ThreadExits() {
    }

    /** Runs {@code action} on the cleaner thread after {@code thread} becomes unreachable (or on clean()). */
    static Cleaner.Cleanable watch(Thread thread, Runnable action) {
        return Holder.CLEANER.register(thread, action);
    }

    /** Created on first registration, not when the module loads. */
    private static final class Holder {
        static final Cleaner CLEANER = Cleaner.create();
    }
}
