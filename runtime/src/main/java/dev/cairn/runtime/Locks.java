package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectMutex;

/**
 * Taking an object's one-byte mutex from a thread state: the contended path detaches the thread state while it
 * parks (CPython's {@code _PY_LOCK_DETACH}), so a parked writer never holds up stop-the-world or QSBR.
 */
final class Locks {

    private Locks() {
    }

    static void lock(ThreadState ts, long obj) {
        if (!ObjectMutex.tryLock(obj)) {
            ObjectMutex.lockSlow(obj, ts::detach, () -> ts.attach(false));
        }
    }

    static void unlock(long obj) {
        ObjectMutex.unlock(obj);
    }
}
