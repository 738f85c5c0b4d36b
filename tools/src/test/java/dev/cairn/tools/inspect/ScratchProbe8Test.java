package dev.cairn.tools.inspect;

import dev.cairn.tools.heapdump.*;
import java.nio.*;
import java.nio.file.*;
import org.junit.jupiter.api.Test;

class ScratchProbe8Test {
    @Test
    void craft() throws Exception {
        byte[] d = Files.readAllBytes(Path.of("/tmp/probe-dumps/one.cdump"));
        int body = DumpBytes.sectionBody(d, 9);
        int n = 3_000_000;
        ByteBuffer out = ByteBuffer.allocate(body + n * 16 + 16).order(ByteOrder.LITTLE_ENDIAN);
        out.put(d, 0, body);
        out.putLong(body - 8, (long) n * 16);
        for (int i = 0; i < n; i++) { out.putLong(0x1000L + i * 16L); out.putLong(0); }
        out.putInt(0).putInt(0).putLong(0);
        byte[] b = out.array();
        DumpBytes.fixChecksums(b);
        Files.write(Path.of("/tmp/probe-dumps/zero-contents.cdump"), b);
    }
}
