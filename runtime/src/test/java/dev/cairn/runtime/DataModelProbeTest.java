package dev.cairn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Dicts, lists, tuples, strs, bytes, ints and floats against a Java model, as a Python user would use them: random
 * operations with edge keys and values, each result compared with what {@link HashMap} and {@link ArrayList} say.
 */
class DataModelProbeTest {

    /** Keys: ints at the edges and colliding in the low bits, strs empty, long, non-BMP, and not encodable. */
    private static Object randomKey(SplittableRandom rnd) {
        return switch (rnd.nextInt(8)) {
            case 0 -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE, -6, -5, 0, 256, 257, -1}[rnd.nextInt(8)];
            case 1 -> (long) rnd.nextInt(64) << 32; // equal low bits
            case 2 -> (long) rnd.nextInt(200) - 100;
            case 3 -> new String[] {"", "a", "\uD83D\uDE00", "\uD834\uDD1E!", "\u00E9", "e\u0301", "?", "??"}
                    [rnd.nextInt(8)];
            case 4 -> "k" + rnd.nextInt(100);
            default -> randomString(rnd);
        };
    }

    /** Any chars: often a well-formed string, sometimes one with a lone surrogate. */
    private static String randomString(SplittableRandom rnd) {
        StringBuilder b = new StringBuilder();
        int n = rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            switch (rnd.nextInt(6)) {
                case 0 -> b.appendCodePoint(0x10000 + rnd.nextInt(0x100000)); // a pair
                case 1 -> b.append((char) (0xD800 + rnd.nextInt(0x800))); // lone, unless the next completes it
                case 2 -> b.append((char) rnd.nextInt(0x80));
                default -> b.append((char) ('a' + rnd.nextInt(3)));
            }
        }
        return b.toString();
    }

    private static boolean encodable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** A random value and its model; tuples nest. */
    private static Object randomValue(SplittableRandom rnd, int depth) {
        return switch (rnd.nextInt(depth > 2 ? 6 : 7)) {
            case 0 -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE, -6, -5, 256, 257, rnd.nextLong()}[rnd.nextInt(7)];
            case 1 -> new double[] {Double.NaN, -0.0, 0.0, Double.NEGATIVE_INFINITY, Double.MIN_VALUE,
                Double.longBitsToDouble(0x7ff0_0000_0000_0001L), rnd.nextDouble()}[rnd.nextInt(7)];
            case 2 -> {
                byte[] b = new byte[rnd.nextInt(5)];
                rnd.nextBytes(b);
                yield new Bin(b);
            }
            case 3 -> rnd.nextBoolean();
            case 4 -> None.NONE;
            case 5 -> randomString(rnd);
            default -> {
                List<Object> items = new ArrayList<>();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    items.add(randomValue(rnd, depth + 1));
                }
                yield items;
            }
        };
    }

    private enum None { NONE }

    private record Bin(byte[] b) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Bin other && Arrays.equals(b, other.b);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(b);
        }
    }

    /** Floats compare by raw bits (NaN payloads and -0.0 included). */
    private record FloatBits(long bits) {
    }

    private static Object normal(Object model) {
        if (model instanceof Double d) {
            return new FloatBits(Double.doubleToRawLongBits(d));
        }
        if (model instanceof List<?> l) {
            return l.stream().map(DataModelProbeTest::normal).toList();
        }
        return model;
    }

    private static boolean buildable(Object model) {
        if (model instanceof String s) {
            return encodable(s);
        }
        if (model instanceof List<?> l) {
            return l.stream().allMatch(DataModelProbeTest::buildable);
        }
        return true;
    }

    /** A new reference to an object for {@code model}. */
    private static long build(ThreadState ts, Runtime rt, Object model) {
        if (model instanceof Long v) {
            return Ints.of(ts, v);
        } else if (model instanceof Double v) {
            return Floats.of(ts, v);
        } else if (model instanceof String v) {
            return Strs.of(ts, v);
        } else if (model instanceof Bin v) {
            return Bytes.of(ts, v.b());
        } else if (model instanceof Boolean v) {
            return rt.bool(v);
        } else if (model == None.NONE) {
            return rt.none();
        }
        List<?> items = (List<?>) model;
        long[] objs = new long[items.size()];
        for (int i = 0; i < objs.length; i++) {
            objs[i] = build(ts, rt, items.get(i));
        }
        long t = Tuples.of(ts, objs);
        for (long o : objs) {
            Ref.decref(ts, o);
        }
        return t;
    }

    /** The model of {@code obj}, normalised. */
    private static Object read(ThreadState ts, Runtime rt, long obj) {
        String type = Types.typeName(ts, obj);
        return switch (type) {
            case "int" -> Ints.value(ts, obj);
            case "float" -> new FloatBits(Double.doubleToRawLongBits(Floats.value(ts, obj)));
            case "str" -> Strs.value(ts, obj);
            case "bytes" -> new Bin(Bytes.value(ts, obj));
            case "bool" -> obj == rt.bool(true);
            case "NoneType" -> None.NONE;
            case "tuple" -> {
                List<Object> out = new ArrayList<>();
                for (long i = 0; i < Tuples.size(ts, obj); i++) {
                    long item = Tuples.get(ts, obj, i);
                    out.add(read(ts, rt, item));
                    Ref.decref(ts, item);
                }
                yield out;
            }
            default -> throw new AssertionError("unexpected type " + type);
        };
    }

    @Test
    void dictsListsAndScalarsMatchAJavaModel() {
        long seed = System.nanoTime();
        System.out.println("DataModelProbeTest seed=" + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter in = rt.newInterpreter(InterpreterConfig.isolated());
            try (ThreadState ts = in.newThreadState()) {
                long dict = Dicts.create(ts);
                long list = Lists.create(ts);
                Map<Object, Object> dictModel = new HashMap<>();
                List<Object> listModel = new ArrayList<>();
                for (int round = 0; round < 40_000; round++) {
                    String at = "seed " + seed + " round " + round;
                    Object k = randomKey(rnd);
                    if (k instanceof String s && !encodable(s)) {
                        assertThrows(IllegalArgumentException.class, () -> Strs.of(ts, s), at);
                        assertThrows(IllegalArgumentException.class, () -> Strs.intern(ts, s), at);
                        continue;
                    }
                    Object v = randomValue(rnd, 0);
                    switch (rnd.nextInt(7)) {
                        case 0, 1 -> { // put / replace
                            if (!buildable(v)) {
                                continue;
                            }
                            long key = rnd.nextBoolean() && k instanceof String s ? Strs.intern(ts, s)
                                    : build(ts, rt, k);
                            long value = build(ts, rt, v);
                            Dicts.put(ts, dict, key, value);
                            Ref.decref(ts, key);
                            Ref.decref(ts, value);
                            dictModel.put(k, normal(v));
                        }
                        case 2 -> { // remove
                            long key = build(ts, rt, k);
                            assertEquals(dictModel.remove(k) != null, Dicts.remove(ts, dict, key), at);
                            Ref.decref(ts, key);
                        }
                        case 3 -> { // get
                            long key = build(ts, rt, k);
                            long got = Dicts.get(ts, dict, key);
                            Object want = dictModel.get(k);
                            if (want == null) {
                                assertEquals(0, got, at);
                            } else {
                                assertEquals(want, read(ts, rt, got), at + " key " + k);
                                Ref.decref(ts, got);
                            }
                            Ref.decref(ts, key);
                        }
                        case 4 -> { // append
                            if (buildable(v)) {
                                long value = build(ts, rt, v);
                                Lists.append(ts, list, value);
                                Ref.decref(ts, value);
                                listModel.add(normal(v));
                            }
                        }
                        case 5 -> { // set, in range or not (negative indices are not supported)
                            long i = rnd.nextInt(listModel.size() + 3) - 1;
                            long value = build(ts, rt, buildable(v) ? v : None.NONE);
                            if (i < 0 || i >= listModel.size()) {
                                assertThrows(IndexOutOfBoundsException.class, () -> Lists.set(ts, list, i, value), at);
                            } else {
                                Lists.set(ts, list, i, value);
                                listModel.set((int) i, normal(buildable(v) ? v : None.NONE));
                            }
                            Ref.decref(ts, value);
                        }
                        default -> { // get or pop
                            long i = rnd.nextInt(listModel.size() + 3) - 1;
                            if (rnd.nextInt(4) == 0) {
                                if (listModel.isEmpty()) {
                                    assertThrows(IndexOutOfBoundsException.class, () -> Lists.pop(ts, list), at);
                                } else {
                                    long got = Lists.pop(ts, list);
                                    assertEquals(listModel.removeLast(), read(ts, rt, got), at);
                                    Ref.decref(ts, got);
                                }
                            } else if (i < 0 || i >= listModel.size()) {
                                assertThrows(IndexOutOfBoundsException.class, () -> Lists.get(ts, list, i), at);
                            } else {
                                long got = Lists.get(ts, list, i);
                                assertEquals(listModel.get((int) i), read(ts, rt, got), at);
                                Ref.decref(ts, got);
                            }
                        }
                    }
                    assertEquals(dictModel.size(), Dicts.size(ts, dict), at);
                    assertEquals(listModel.size(), Lists.size(ts, list), at);
                    if (round % 1000 == 0) {
                        ts.checkpoint();
                    }
                }
                // every key of the model is found through a fresh, equal key object
                for (Map.Entry<Object, Object> e : dictModel.entrySet()) {
                    long key = build(ts, rt, e.getKey());
                    long got = Dicts.get(ts, dict, key);
                    assertTrue(got != 0, "seed " + seed + ": key " + e.getKey());
                    assertEquals(e.getValue(), read(ts, rt, got), "seed " + seed);
                    Ref.decref(ts, got);
                    Ref.decref(ts, key);
                }
                Ref.decref(ts, dict);
                Ref.decref(ts, list);
                Gc.collect(ts); // runs the delayed decrefs of replaced and removed items (no cycle was made)
                assertEquals(0, Gc.collect(ts));
                assertEquals(in.objectsAllocated(), in.objectsFreed(), "seed " + seed);
            }
            DestroyReport report = in.release().orElseThrow();
            assertEquals(0, report.leakedObjects(), () -> "seed " + seed + ": leaked " + report.leakedByType());
        }
    }
    /** Shared values (cross-interpreter data) come out equal to their model, floats bit for bit. */
    @Test
    void sharedValuesMatchTheirModelInTheOtherInterpreter() throws Exception {
        long seed = System.nanoTime();
        System.out.println("DataModelProbeTest shared seed=" + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Runtime rt = Runtime.create()) {
            Interpreter src = rt.newInterpreter(InterpreterConfig.isolated());
            Interpreter dst = rt.newInterpreter(InterpreterConfig.sharedAllocator());
            List<Object> models = new ArrayList<>();
            List<CrossInterpreter.Shared> shared = new ArrayList<>();
            try (ThreadState ts = src.newThreadState()) {
                for (int i = 0; i < 2000; i++) {
                    Object v = randomValue(rnd, 0);
                    if (!buildable(v)) {
                        continue;
                    }
                    long obj = build(ts, rt, v);
                    shared.add(CrossInterpreter.share(ts, obj));
                    Ref.decref(ts, obj);
                    models.add(normal(v));
                }
            }
            java.util.concurrent.atomic.AtomicReference<Throwable> error =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try (ThreadState ts = dst.newThreadState()) {
                    for (int i = 0; i < models.size(); i++) {
                        long obj = CrossInterpreter.unshare(ts, shared.get(i));
                        assertEquals(models.get(i), read(ts, rt, obj), "seed " + seed + " value " + i);
                        Ref.decref(ts, obj);
                        shared.get(i).close();
                    }
                } catch (Throwable e) {
                    error.set(e);
                }
            });
            t.join();
            if (error.get() != null) {
                throw new AssertionError(error.get());
            }
            assertEquals(0, src.release().orElseThrow().leakedObjects());
            assertEquals(0, dst.release().orElseThrow().leakedObjects());
        }
    }
}
