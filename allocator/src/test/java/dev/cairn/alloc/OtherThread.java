package dev.cairn.alloc;

import java.util.concurrent.atomic.AtomicReference;

/** Runs test code on a fresh platform thread and waits for it; what it throws fails the calling test. */
final class OtherThread {

    private OtherThread() {
    }

    /** Runs {@code body} on a fresh platform thread and returns what it threw, or null. */
    static Throwable thrownBy(Runnable body) {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        run(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        return thrown.get();
    }

    /** {@link Thread#sleep}, for bodies run here: an interrupt fails the test. */
    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static void run(Runnable body) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for the other thread", e);
        }
        if (failure.get() != null) {
            throw new AssertionError("other thread failed: " + failure.get(), failure.get());
        }
    }
}
