package dev.cairn.runtime;

/** How an interpreter came to be (CPython's {@code _whence}); decides what the public API may do with it. */
public enum Whence {
    /** The main interpreter, made by {@link Runtime#create()}: runs code; destroyed only by {@link Runtime#close()}. */
    RUNTIME,
    /** Made by {@link Runtime#newInterpreter(InterpreterConfig)}: runs code and is destroyed through the API. */
    API,
    /**
     * Registered with {@link Runtime#adoptInterpreter(InterpreterConfig)} on behalf of code outside this API (an
     * embedder's own interpreter): the API can look it up and hold references to it, but
     * refuses to run code in it or destroy it; it lives until {@link Runtime#close()}.
     */
    ADOPTED
}
