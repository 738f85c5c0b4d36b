package dev.cairn.alloc.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.attribute.CodeAttribute;
import org.junit.jupiter.api.Test;

/**
 * {@code AllocatorImpl.free(long)} relies on its bytecode being too large for C2 to inline at a hot call site
 * ({@code FreqInlineSize}, 325 bytes on HotSpot's x86-64 and AArch64 defaults): compiled on its own it keeps its
 * whole fast path inlined, whatever the caller's compilation unit holds (see its comment). An edit that shrinks
 * it would silently bring back the calls measured in docs/benchmarks.md; this test says so instead.
 */
class FreePathShapeTest {

    private static final int FREQ_INLINE_SIZE = 325;

    @Test
    void freeStaysTooLargeForC2ToInlineIntoItsCallers() throws IOException {
        byte[] bytes;
        try (InputStream in = AllocatorImpl.class.getResourceAsStream("AllocatorImpl.class")) {
            bytes = in.readAllBytes();
        }
        ClassModel model = ClassFile.of().parse(bytes);
        MethodModel free = model.methods().stream()
                .filter(m -> m.methodName().equalsString("free") && m.methodType().equalsString("(J)V"))
                .findFirst().orElseThrow();
        int length = free.findAttribute(java.lang.classfile.Attributes.code()).map(CodeAttribute::codeLength)
                .orElseThrow();
        assertTrue(length > FREQ_INLINE_SIZE, "AllocatorImpl.free(long) is " + length
                + " bytes of bytecode; above " + FREQ_INLINE_SIZE + " C2 compiles it on its own instead of inlining"
                + " it into callers, which the free path's speed depends on (see its comment)");
    }
}
