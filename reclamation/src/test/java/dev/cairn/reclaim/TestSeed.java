package dev.cairn.reclaim;

import java.util.SplittableRandom;

/**
 * The seed of a randomized test: {@code -Dcairn.test.seed=N} to replay one, otherwise fresh each run. Tests run
 * their body through {@link #run} so a failure names the seed.
 */
record TestSeed(long value) {

    static TestSeed next() {
        String fixed = System.getProperty("cairn.test.seed");
        return new TestSeed(fixed != null ? Long.parseLong(fixed) : System.nanoTime() ^ 0x5DEECE66DL);
    }

    SplittableRandom random() {
        return new SplittableRandom(value);
    }

    /** Runs {@code body}; any failure is rethrown with the seed in its message. */
    void run(Body body) throws Exception {
        try {
            body.run(this);
        } catch (Throwable t) {
            AssertionError wrapped = new AssertionError("failed with seed " + value
                    + " (replay: -Dcairn.test.seed=" + value + "): " + t, t);
            throw wrapped;
        }
    }

    @FunctionalInterface
    interface Body {
        void run(TestSeed seed) throws Exception;
    }
}
