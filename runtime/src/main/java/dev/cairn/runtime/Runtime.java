package dev.cairn.runtime;

import dev.cairn.alloc.Allocator;
import dev.cairn.alloc.AllocatorConfig;
import dev.cairn.alloc.DumpOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The process-wide runtime (CPython's {@code _PyRuntime}): the main allocator, the main interpreter, the
 * runtime-wide immortals, the interpreter registry, and the record of which thread state each thread has attached.
 *
 * <pre>{@code
 * try (Runtime rt = Runtime.create()) {
 *     Interpreter interp = rt.newInterpreter(InterpreterConfig.isolated());
 *     try (ThreadState ts = interp.newThreadState()) {
 *         long list = Lists.create(ts);
 *         ...
 *         Ref.decref(ts, list);
 *     }
 *     interp.release();   // the last reference: destroyed, memory returned
 * }
 * }</pre>
 */
public final class Runtime implements AutoCloseable {

    final Allocator mainAllocator;
    final Builtins builtins;
    private final Interpreter main;
    private final AtomicLong nextThreadId = new AtomicLong(1);
    private final AtomicLong nextInterpreterId = new AtomicLong(0);
    /**
     * Guards {@link #slots}. Not {@code this}: a destruction unregisters while it holds its interpreter's monitor,
     * and {@link #close()} holds this runtime's monitor while it waits for that destruction to end.
     */
    private final Object registry = new Object();
    /** Interpreter slots in use (slot 0 marks runtime immortals); guarded by {@link #registry}. */
    private final BitSet slots = new BitSet();
    /** Set by {@link #close()} before it looks at the interpreters (cleared if refused); guarded by registry. */
    private boolean closing;
    private final ConcurrentHashMap<Long, Interpreter> interpreters = new ConcurrentHashMap<>();
    /** The calling thread's attached thread state, if any (at most one). */
    private final ThreadLocal<ThreadState> current = new ThreadLocal<>();
    /** How many live thread states of the calling thread use each allocator (its heap is given back at 0). */
    private final ThreadLocal<IdentityHashMap<Allocator, int[]>> allocatorUsers =
            ThreadLocal.withInitial(IdentityHashMap::new);
    /**
     * How many interpreter pauses the calling thread holds: a cheap test before {@link ThreadState#attach()} looks
     * for one held out of order.
     */
    private final ThreadLocal<int[]> pausesHeld = ThreadLocal.withInitial(() -> new int[1]);
    /** One runtime-wide pause at a time. */
    private final ReentrantLock stopAll = new ReentrantLock();
    private List<Interpreter> stoppedAll;
    private volatile boolean closed;

    private Runtime(AllocatorConfig config) {
        mainAllocator = Allocator.create(config);
        builtins = new Builtins(mainAllocator);
        slots.set(0);
        main = register(Whence.RUNTIME, mainAllocator, false);
    }

    /** A runtime whose main allocator is configured from system properties. */
    public static Runtime create() {
        return new Runtime(AllocatorConfig.fromSystemProperties());
    }

    public static Runtime create(AllocatorConfig mainAllocatorConfig) {
        return new Runtime(mainAllocatorConfig);
    }

    public Interpreter mainInterpreter() {
        return main;
    }

    /** A new interpreter (whence {@link Whence#API}) holding one reference for the caller. */
    public Interpreter newInterpreter(InterpreterConfig config) {
        checkOpen();
        return config.ownAllocator()
                ? register(Whence.API, Allocator.create(config.allocatorConfig()), true)
                : register(Whence.API, mainAllocator, false);
    }

    /**
     * Registers an interpreter made on behalf of code outside this API ({@link Whence#ADOPTED}): visible through
     * {@link #lookup}, but the API neither runs code in it nor destroys it before {@link #close()}.
     */
    public Interpreter adoptInterpreter(InterpreterConfig config) {
        checkOpen();
        return config.ownAllocator()
                ? register(Whence.ADOPTED, Allocator.create(config.allocatorConfig()), true)
                : register(Whence.ADOPTED, mainAllocator, false);
    }

    private Interpreter register(Whence whence, Allocator allocator, boolean own) {
        synchronized (registry) {
            if (closing) {
                // made after close took its list of interpreters, it would outlive the runtime (and its own
                // allocator would never be closed)
                if (own) {
                    allocator.close();
                }
                throw new IllegalStateException("runtime is closed or closing");
            }
            int slot = slots.nextClearBit(1);
            slots.set(slot);
            Interpreter interp = new Interpreter(this, nextInterpreterId.getAndIncrement(), whence, slot, allocator,
                    own);
            interpreters.put(interp.id(), interp);
            return interp;
        }
    }

    void unregister(Interpreter interp) {
        synchronized (registry) {
            interpreters.remove(interp.id());
            slots.clear(interp.slot);
        }
    }

    public Optional<Interpreter> lookup(long interpreterId) {
        return Optional.ofNullable(interpreters.get(interpreterId));
    }

    /** The live interpreters, by id. */
    public List<Interpreter> interpreters() {
        List<Interpreter> out = new ArrayList<>(interpreters.values());
        out.sort(Comparator.comparingLong(Interpreter::id));
        return out;
    }

    /** The calling thread's attached thread state, or null. */
    public ThreadState current() {
        return current.get();
    }

    /** {@code None}, a runtime immortal. After {@link #close()} its memory is gone: then this throws. */
    public long none() {
        checkOpen();
        return builtins.none;
    }

    /** {@code True} or {@code False}, runtime immortals. After {@link #close()} their memory is gone: this throws. */
    public long bool(boolean value) {
        checkOpen();
        return value ? builtins.trueObj : builtins.falseObj;
    }

    /**
     * Stops every thread of every interpreter (interpreters in id order, so a runtime-wide pause and
     * per-interpreter pauses never wait for each other in a cycle); {@link #startTheWorld()} undoes it.
     *
     * @throws IllegalStateException if the runtime is closed, or the calling thread already holds this pause or the
     *                               pause of an interpreter ({@link Interpreter#stopTheWorld()})
     */
    public void stopTheWorld() {
        checkOpen();
        Thread me = Thread.currentThread();
        // nested, the pauses' locks would be taken twice and released once by startTheWorld: every other thread
        // would then wait for them forever
        if (stopAll.isHeldByCurrentThread()) {
            throw new IllegalStateException("the runtime's world is already stopped by this thread");
        }
        for (Interpreter interp : interpreters()) {
            if (interp.stw.stoppedBy(me)) {
                throw new IllegalStateException("the calling thread holds the world of interpreter " + interp.id()
                        + " stopped: start it before stopping the runtime's");
            }
        }
        if (!stopAll.tryLock()) {
            // the holder may be waiting for our attached thread state to stop: wait detached (as
            // StopTheWorld.lockDetached does for an interpreter's pause)
            ThreadState self = current();
            if (self != null) {
                self.detach();
            }
            stopAll.lock();
            if (self != null) {
                self.attach(false);
            }
        }
        List<Interpreter> all = interpreters();
        for (Interpreter interp : all) {
            interp.stw.lockDetached();
            interp.stw.stopLocked();
        }
        stoppedAll = all;
    }

    /** Whether the calling thread holds {@code interp}'s world stopped as part of {@link #stopTheWorld()}. */
    boolean stoppedByRuntimePause(Interpreter interp) {
        return stopAll.isHeldByCurrentThread() && stoppedAll != null && stoppedAll.contains(interp);
    }

    public void startTheWorld() {
        if (!stopAll.isHeldByCurrentThread() || stoppedAll == null) {
            throw new IllegalStateException("the runtime's world was not stopped by this thread");
        }
        List<Interpreter> all = stoppedAll;
        stoppedAll = null;
        for (int i = all.size() - 1; i >= 0; i--) {
            all.get(i).stw.startLocked();
            all.get(i).stw.mutex.unlock();
        }
        stopAll.unlock();
    }

    /** {@link #dumpHeap(Path, DumpOptions)} with {@link DumpOptions#DEFAULT}. */
    public void dumpHeap(Path path) {
        dumpHeap(path, DumpOptions.DEFAULT);
    }

    /**
     * Writes the runtime's heap dump: the main allocator's, through {@link Interpreter#dumpHeap(Path, DumpOptions)}
     * of the main interpreter, so its OBJECTS section holds the runtime-wide immortals (the static types, None, the
     * booleans, the small ints, the interned strs) and the objects of every interpreter on the main allocator (the
     * main one and those made with {@link InterpreterConfig#sharedAllocator()}), all of them stopped for the whole
     * dump. An interpreter with its own allocator ({@link InterpreterConfig#isolated()}) is not in it: a dump is one
     * allocator's file (the format has one address space per file, and the pauses of interpreters that share no
     * memory need not be taken together), so dump such an interpreter with its own
     * {@link Interpreter#dumpHeap(Path, DumpOptions)}. A caller that holds {@link #stopTheWorld()} keeps it.
     *
     * @throws IllegalStateException if the runtime is closed, or the caller holds the pauses of some but not all of
     *                               the interpreters on the main allocator
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public void dumpHeap(Path path, DumpOptions options) {
        checkOpen();
        main.dumpHeap(path, options);
    }

    long nextThreadId() {
        return nextThreadId.getAndIncrement();
    }

    void bindCurrent(ThreadState ts) {
        ThreadState cur = current.get();
        if (cur != null && cur != ts) {
            throw new IllegalStateException(Thread.currentThread() + " already has " + cur + " attached");
        }
        current.set(ts);
    }

    void unbindCurrent(ThreadState ts) {
        if (current.get() == ts) {
            current.remove();
        }
    }

    void pauseTaken() {
        pausesHeld.get()[0]++;
    }

    void pauseEnded() {
        pausesHeld.get()[0]--;
    }

    boolean holdsPause() {
        return pausesHeld.get()[0] != 0;
    }

    void useAllocator(Allocator allocator) {
        allocatorUsers.get().computeIfAbsent(allocator, a -> new int[1])[0]++;
    }

    /** The calling thread's last thread state on {@code allocator} has closed: give its heap back. */
    void leaveAllocator(Allocator allocator) {
        IdentityHashMap<Allocator, int[]> users = allocatorUsers.get();
        int[] n = users.get(allocator);
        if (n != null && --n[0] == 0) {
            users.remove(allocator);
            allocator.releaseCurrentThread();
        }
    }

    /** Whether {@link #close()} has run; stable while the caller holds this runtime's monitor. */
    boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("runtime is closed");
        }
    }

    /**
     * Destroys every interpreter (API-made, adopted, then the main one; each needs its thread states closed) and
     * closes the main allocator. Call it from a thread with no attached thread state. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        // refuse before destroying anything: a refusal halfway would leave some interpreters destroyed. Each
        // interpreter is checked and shut to new thread states at once (else a thread joining one after its check
        // failed the close halfway), waiting out a destruction another thread has begun (its temporary thread state
        // would count as open, and destroying it again would fail halfway)
        List<Interpreter> shut = new ArrayList<>();
        synchronized (registry) {
            closing = true; // no interpreter joins the list below from now on
        }
        try {
            for (Interpreter interp : interpreters()) {
                interp.prepareClose();
                shut.add(interp);
            }
        } catch (IllegalStateException e) {
            for (Interpreter interp : shut) {
                interp.cancelClose();
            }
            synchronized (registry) {
                closing = false;
            }
            throw new IllegalStateException("cannot close the runtime: " + e.getMessage() + "; nothing was destroyed",
                    e);
        }
        for (Interpreter interp : interpreters()) {
            synchronized (interp) {
                if (interp != main && !interp.isDestroyed()) {
                    interp.destroyInternal();
                }
            }
        }
        main.destroyInternal();
        closed = true;
        mainAllocator.close();
    }
}
