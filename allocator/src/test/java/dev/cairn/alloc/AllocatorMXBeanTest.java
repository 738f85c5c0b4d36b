package dev.cairn.alloc;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each allocator is a JMX MBean while it is open, and its {@code dumpHeap} operation writes a dump (the dump's
 * contents are checked by the tools module, which reads them).
 */
class AllocatorMXBeanTest {

    @TempDir
    Path dir;

    @Test
    void registeredWhileOpenAndDumpsOnRequest() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Path path = dir.resolve("jmx.cdump");
        ObjectName name;
        try (Allocator allocator = Allocator.create()) {
            allocator.malloc(100);
            name = new ObjectName("dev.cairn:type=Allocator,id=" + allocator.domainId());
            assertTrue(server.isRegistered(name));
            assertEquals(allocator.domainId(), server.getAttribute(name, "DomainId"));
            assertTrue(((String) server.getAttribute(name, "StatsJson")).contains("\"blocksInUse\":1"));
            Object written = server.invoke(name, "dumpHeap", new Object[] {path.toString()},
                    new String[] {String.class.getName()});
            assertEquals(path.toAbsolutePath().toString(), written);
            byte[] bytes = Files.readAllBytes(path);
            assertTrue(bytes.length > 96);
            assertEquals("CAIRNDMP", new String(Arrays.copyOf(bytes, 8), StandardCharsets.US_ASCII));
        }
        assertFalse(server.isRegistered(name), "unregistered on close");
    }
}
