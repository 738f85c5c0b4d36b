package dev.cairn.runtime;

import dev.cairn.runtime.internal.ObjectLayout;
import dev.cairn.segments.raw.Raw;
import org.eclipse.collections.api.block.procedure.primitive.LongProcedure;

/**
 * The kinds of object a type describes, and the per-kind slots of a type (CPython's {@code tp_dealloc},
 * {@code tp_traverse}, {@code tp_clear}) dispatched on the kind stored in the type object. Each kind's own code
 * lives in its API class; this file only routes.
 */
final class Kinds {

    static final int TYPE = 1;
    static final int NONE = 2;
    static final int BOOL = 3;
    static final int INT = 4;
    static final int FLOAT = 5;
    static final int STR = 6;
    static final int BYTES = 7;
    static final int TUPLE = 8;
    static final int LIST = 9;
    static final int DICT = 10;
    static final int INSTANCE = 11;

    private static final String[] NAMES = {"?", "type", "NoneType", "bool", "int", "float", "str", "bytes", "tuple",
        "list", "dict", "instance"};

    private Kinds() {
    }

    static String name(int kind) {
        return kind > 0 && kind < NAMES.length ? NAMES[kind] : "kind " + kind;
    }

    static int kindOf(long obj) {
        return Raw.getInt(ObjectLayout.type(obj) + Types.TYPE_KIND);
    }

    /** Frees a dead object after dropping the references it holds (tp_dealloc). */
    static void dealloc(ThreadState ts, long obj) {
        switch (kindOf(obj)) {
            case TUPLE -> Tuples.dealloc(ts, obj);
            case LIST -> Lists.dealloc(ts, obj);
            case DICT -> Dicts.dealloc(ts, obj);
            case INSTANCE -> Instances.dealloc(ts, obj);
            case TYPE -> Types.deallocHeapType(ts, obj);
            case NONE, BOOL -> throw new IllegalStateException("immortal object reached zero: 0x"
                    + Long.toHexString(obj));
            default -> { }
        }
        Objs.free(ts, obj);
    }

    /** Visits every object reference {@code obj} holds (tp_traverse); 0 entries are skipped. */
    static void traverse(long obj, LongProcedure visit) {
        switch (kindOf(obj)) {
            case TUPLE -> Tuples.traverse(obj, visit);
            case LIST -> Lists.traverse(obj, visit);
            case DICT -> Dicts.traverse(obj, visit);
            case INSTANCE -> Instances.traverse(obj, visit);
            default -> { }
        }
    }

    /** Drops every reference {@code obj} holds and leaves it empty (tp_clear), with the world stopped. */
    static void clear(ThreadState ts, long obj) {
        switch (kindOf(obj)) {
            case TUPLE -> Tuples.clear(ts, obj);
            case LIST -> Lists.clear(ts, obj);
            case DICT -> Dicts.clear(ts, obj);
            case INSTANCE -> Instances.clear(ts, obj);
            default -> { }
        }
    }

    /** Whether objects of this kind can hold references and so take part in cycles (GC-tracked). */
    static boolean isContainer(int kind) {
        return kind == TUPLE || kind == LIST || kind == DICT || kind == INSTANCE;
    }
}
