package dev.cairn.reclaim.internal;

/** Every exception the reclamation module throws on misuse, built in one place so messages stay consistent. */
final class Errors {

    private Errors() {
    }

    static WrongThreadException wrongThread(Thread owner) {
        return new WrongThreadException("this QsbrThread belongs to " + owner + ", not to " + Thread.currentThread()
                + "; every thread registers its own handle");
    }

    static IllegalStateException unregistered() {
        return new IllegalStateException("this QsbrThread has been unregistered; register() again for a new one");
    }

    static IllegalStateException unregisterFromDeferredWork() {
        return new IllegalStateException("unregister() called from deferred work this thread is running");
    }

    static IllegalStateException alreadyAttached() {
        return new IllegalStateException("attach() on a thread that is already attached (online)");
    }

    static IllegalStateException alreadyDetached() {
        return new IllegalStateException("detach() on a thread that is already detached (offline)");
    }

    static IllegalStateException alreadyRegistered(Thread thread) {
        return new IllegalStateException(thread + " is already registered with this Qsbr domain");
    }

    static IllegalStateException closed() {
        return new IllegalStateException("this Qsbr domain is closed");
    }

    static IllegalStateException stillRegistered(int threads) {
        return new IllegalStateException("cannot close a Qsbr domain with " + threads
                + " registered thread(s); unregister them first");
    }

    static IllegalStateException onlineCaller() {
        return new IllegalStateException("synchronize() called by a thread that is online in this domain: it would"
                + " wait for itself; detach() first (or call it from an unregistered thread)");
    }

    static IllegalStateException noFreeFunction() {
        return new IllegalStateException("this Qsbr domain has no free function; configure QsbrConfig.free to defer"
                + " addresses (or defer a Runnable)");
    }

    static IllegalArgumentException notAGoal(long goal) {
        return new IllegalArgumentException("not a goal: " + goal + " (goals are odd and >= 1; take them from"
                + " advance() or deferredAdvance())");
    }

    static IllegalArgumentException futureGoal(long goal, long writeSeq) {
        return new IllegalArgumentException("goal " + goal + " is ahead of this domain's write sequence " + writeSeq
                + "; was it taken from another domain?");
    }

    static IllegalArgumentException negativeSize(long address, long size) {
        return new IllegalArgumentException("size function returned " + size + " for address 0x"
                + Long.toHexString(address) + "; sizes are bytes, >= 0");
    }
}
