package dev.cairn.bench.workload;

/**
 * One thread's counts: blocks and bytes allocated, blocks freed, and a checksum of the check bytes read back (a
 * tag and its complement: 255 per freed block when every one was read back whole).
 * Threads keep their own and {@link #add} them into the workload's total when they finish (under its lock).
 */
public final class Tally {
    private long mallocs;
    private long frees;
    private long bytes;
    private long checksum;

    void allocated(long size) {
        mallocs++;
        bytes += size;
    }

    void freed(byte first, byte last) {
        frees++;
        checksum += (first & 0xFF) + (last & 0xFF);
    }

    /** Adds another thread's counts. */
    public synchronized void add(Tally other) {
        mallocs += other.mallocs;
        frees += other.frees;
        bytes += other.bytes;
        checksum += other.checksum;
    }

    public synchronized long mallocs() {
        return mallocs;
    }

    public synchronized long frees() {
        return frees;
    }

    public synchronized long bytes() {
        return bytes;
    }

    public synchronized long checksum() {
        return checksum;
    }
}
