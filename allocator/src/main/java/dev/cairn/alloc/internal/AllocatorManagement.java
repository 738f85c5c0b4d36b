package dev.cairn.alloc.internal;

import dev.cairn.alloc.AllocatorMXBean;
import dev.cairn.alloc.DumpOptions;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.JMException;
import javax.management.ObjectName;
import javax.management.StandardMBean;

/**
 * Domain ids and the JMX side of an allocator: {@code dev.cairn:type=Allocator,id=N} is registered when the
 * allocator is created and unregistered when it closes, so {@code dumpHeap} is reachable from JConsole, VisualVM or
 * any JMX client of a running JVM. Registration failures (a JVM without a platform MBean server) are not fatal: the
 * allocator works without its MBean.
 */
final class AllocatorManagement implements AllocatorMXBean {

    private static final AtomicLong NEXT_DOMAIN_ID = new AtomicLong(1);

    private final AllocatorImpl allocator;
    private final ObjectName name;

    private AllocatorManagement(AllocatorImpl allocator, ObjectName name) {
        this.allocator = allocator;
        this.name = name;
    }

    static long nextDomainId() {
        return NEXT_DOMAIN_ID.getAndIncrement();
    }

    static ObjectName nameOf(long domainId) {
        try {
            return new ObjectName("dev.cairn:type=Allocator,id=" + domainId);
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Registers the allocator's MBean; returns the registration, or null when JMX refused it. */
    static AllocatorManagement register(AllocatorImpl allocator) {
        AllocatorManagement bean = new AllocatorManagement(allocator, nameOf(allocator.domainId()));
        try {
            ManagementFactory.getPlatformMBeanServer()
                    .registerMBean(new StandardMBean(bean, AllocatorMXBean.class, true), bean.name);
            return bean;
        } catch (JMException | RuntimeException e) {
            System.getLogger("dev.cairn.alloc").log(System.Logger.Level.WARNING,
                    "Cairn: could not register " + bean.name + ": " + e);
            return null;
        }
    }

    void unregister() {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (JMException | RuntimeException e) {
            System.getLogger("dev.cairn.alloc").log(System.Logger.Level.WARNING,
                    "Cairn: could not unregister " + name + ": " + e);
        }
    }

    @Override
    public long getDomainId() {
        return allocator.domainId();
    }

    @Override
    public String getStatsJson() {
        return allocator.stats().toJson();
    }

    @Override
    public String dumpHeap(String path) {
        Path target = Path.of(path).toAbsolutePath();
        allocator.dumpHeap(target, DumpOptions.DEFAULT);
        return target.toString();
    }
}
