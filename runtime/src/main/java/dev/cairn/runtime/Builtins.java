package dev.cairn.runtime;

import dev.cairn.alloc.Allocator;
import dev.cairn.segments.raw.Raw;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runtime-wide immortals, made once in the main allocator with interpreter slot 0: the static types, None,
 * True, False, the small ints and interned strings. Never counted, never freed before the runtime closes.
 */
final class Builtins {

    final long typeType;
    final long noneType;
    final long boolType;
    final long intType;
    final long floatType;
    final long strType;
    final long bytesType;
    final long tupleType;
    final long listType;
    final long dictType;
    final long none;
    final long trueObj;
    final long falseObj;
    private final long[] smallInts = new long[(int) (Ints.SMALL_MAX - Ints.SMALL_MIN + 1)];
    private final Allocator main;
    /** Interned strs by value; entries are added once and never removed. */
    private final ConcurrentHashMap<String, Long> interned = new ConcurrentHashMap<>();

    Builtins(Allocator main) {
        this.main = main;
        typeType = Types.createStatic(main, 0, Kinds.TYPE);
        noneType = Types.createStatic(main, typeType, Kinds.NONE);
        boolType = Types.createStatic(main, typeType, Kinds.BOOL);
        intType = Types.createStatic(main, typeType, Kinds.INT);
        floatType = Types.createStatic(main, typeType, Kinds.FLOAT);
        strType = Types.createStatic(main, typeType, Kinds.STR);
        bytesType = Types.createStatic(main, typeType, Kinds.BYTES);
        tupleType = Types.createStatic(main, typeType, Kinds.TUPLE);
        listType = Types.createStatic(main, typeType, Kinds.LIST);
        dictType = Types.createStatic(main, typeType, Kinds.DICT);
        for (long t : new long[] {typeType, noneType, boolType, intType, floatType, strType, bytesType, tupleType,
            listType, dictType}) {
            Types.setName(t, intern(Kinds.name(Raw.getInt(t + Types.TYPE_KIND))));
        }
        none = Objs.createImmortal(main, noneType, 0);
        trueObj = Objs.createImmortal(main, boolType, 8);
        Raw.putLong(trueObj + Ints.VALUE, 1);
        falseObj = Objs.createImmortal(main, boolType, 8);
        Raw.putLong(falseObj + Ints.VALUE, 0);
        for (int i = 0; i < smallInts.length; i++) {
            long obj = Objs.createImmortal(main, intType, 8);
            Raw.putLong(obj + Ints.VALUE, Ints.SMALL_MIN + i);
            smallInts[i] = obj;
        }
    }

    long smallInt(long value) {
        return smallInts[(int) (value - Ints.SMALL_MIN)];
    }

    long intern(String value) {
        return interned.computeIfAbsent(value, v -> {
            byte[] data = v.getBytes(StandardCharsets.UTF_8);
            long obj = Objs.createImmortal(main, strType, 16 + data.length);
            Strs.fill(obj, data);
            return obj;
        });
    }
}
