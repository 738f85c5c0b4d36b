package dev.cairn.tools.inspect;

import static dev.cairn.tools.heapdump.DumpFormat.*;

import dev.cairn.tools.heapdump.HeapDump;
import dev.cairn.tools.heapdump.ObjectRecord;
import dev.cairn.tools.heapdump.ObjectType;
import dev.cairn.tools.heapdump.ObjectsSection;
import dev.cairn.tools.heapdump.PageInfo;
import dev.cairn.tools.heapdump.SegmentInfo;
import dev.cairn.tools.inspect.Value.Hex;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code validate}: the allocator's {@code validate()} invariants, checked from the dump alone, plus what only a
 * dump can check (committed ranges against pages in use). Every violation is printed with its address; the exit
 * code is 1 when there is any. Checks (the allocator's short form is atop its {@code SegmentLayout}):
 * <ol>
 *   <li>a page's block size is its size class's; huge blocks sit alone in huge segments;</li>
 *   <li>{@code used <= capacity <= reserved} and the blocks fit in the page's area;</li>
 *   <li>{@code used + |free| + |localFree| == capacity}, {@code |xthreadFree| <= used};</li>
 *   <li>the live bitmap has {@code used - |xthreadFree|} blocks;</li>
 *   <li>every list stays inside its page's carved blocks and visits no block twice;</li>
 *   <li>checked mode: the live/remote bitmaps agree with the lists;</li>
 *   <li>a page in a bin queue lacks the in-full flag, a page in a full queue has it;</li>
 *   <li>a segment's used-page count equals its pages holding a size class; it is aligned to the segment size; its
 *       heap is in the dump unless it is abandoned (or huge with heap 0: its heap ended); pages in use are
 *       committed;</li>
 *   <li>with the runtime's OBJECTS section: each object record starts a live block of its size; its header keeps
 *       the runtime's invariants (immortal ⇒ local 0xFFFFFFFF, owner 0, shared 0; merged ⇒ owner 0, local 0;
 *       otherwise an owner); a type lying in this heap is one of its objects.</li>
 * </ol>
 * A best-effort dump (other threads running) can show violations that were only a race; the report says so. A
 * runtime dump is taken with every interpreter on the allocator stopped, so its objects are exact whatever the flag.
 */
final class ValidateCommand {

    private ValidateCommand() {
    }

    static Report run(HeapDump dump, Options options) {
        Report report = new Report();
        List<Report> violations = report.table("violations");
        Set<Integer> heapIds = new HashSet<>();
        dump.heaps().forEach(h -> heapIds.add(h.id()));
        int[] usedPages = new int[dump.segments().size()];
        for (PageInfo page : dump.pages()) {
            SegmentInfo segment = dump.segmentOf(page);
            if (!page.huge()) {
                usedPages[segment.ordinal()]++;
            }
            page(page, segment, violations);
            owner(page, segment, heapIds, violations);
        }
        for (SegmentInfo s : dump.segments()) {
            if (!s.huge() && usedPages[s.ordinal()] != s.usedPages()) {
                add(violations, s.base(), "segment counts " + s.usedPages() + " used pages but "
                        + usedPages[s.ordinal()] + " pages hold a size class");
            }
            if ((s.base() & (dump.header().segmentSize() - 1)) != 0) {
                add(violations, s.base(), "segment is not aligned to the segment size " + dump.header().segmentSize());
            }
            if (!s.huge() && s.size() != dump.header().segmentSize()) {
                add(violations, s.base(), "segment of " + s.size() + " bytes, not the segment size");
            }
            // heap 0: no heap owns it (in the abandoned pool, or a huge block whose heap ended)
            if (!s.abandoned() && !(s.huge() && s.heapId() == 0) && !heapIds.contains(s.heapId())) {
                add(violations, s.base(), "owned by heap " + s.heapId() + ", which is not in the dump");
            }
        }
        dump.objects().ifPresent(section -> objects(dump, section, violations));
        report.put("checked", dump.pages().size() + " pages, " + dump.segments().size() + " segments"
                + dump.objects().map(s -> ", " + s.objects().size() + " objects").orElse(""));
        report.put("violationCount", violations.size());
        String consistency = !dump.header().bestEffort() ? "exact dump"
                : dump.objects().isPresent() ? "runtime dump: every interpreter on the allocator was stopped, so the"
                        + " objects are exact; other threads had heaps open (best-effort flag)"
                : "best-effort dump: a violation may be a race with a running thread";
        report.put("consistency", consistency);
        return report;
    }

    private static void objects(HeapDump dump, ObjectsSection section, List<Report> out) {
        for (ObjectRecord o : section.objects()) {
            String what = "'" + section.typeOf(o).name() + "' object";
            long block = dump.liveBlockSize(o.address());
            if (block < 0) {
                add(out, o.address(), what + " does not start a live block");
            } else if (block != o.size()) {
                add(out, o.address(), what + " of " + o.size() + " bytes in a block of " + block);
            }
            String header = "local " + Integer.toUnsignedString(o.localCount()) + ", owner " + o.ownerThreadId()
                    + ", shared word " + o.sharedWord();
            if ((o.flags() & OBJECT_IMMORTAL) != 0
                    && (o.localCount() != IMMORTAL_LOCAL || o.ownerThreadId() != 0 || o.sharedWord() != 0)) {
                add(out, o.address(), what + " is flagged immortal but has " + header);
            } else if (!o.immortal() && o.merged() && (o.ownerThreadId() != 0 || o.localCount() != 0)) {
                add(out, o.address(), what + " is merged but has " + header);
            } else if (!o.immortal() && !o.merged() && o.ownerThreadId() == 0) {
                add(out, o.address(), what + " is neither immortal nor merged yet has no owner: " + header);
            }
        }
        for (ObjectType type : section.types()) {
            if (dump.pageAt(type.address()) != null && section.objectAt(type.address()) == null) {
                add(out, type.address(), "type '" + type.name() + "' lies in this heap but is not one of its objects");
            }
        }
    }

    /**
     * A page's own heap (format 1.2): a lent page's is a heap of the dump other than its segment's; a pooled page is
     * in no heap's queue.
     */
    private static void owner(PageInfo p, SegmentInfo s, Set<Integer> heapIds, List<Report> out) {
        if (p.owner() == OWNER_LENT && !heapIds.contains(p.ownerHeap())) {
            add(out, p.start(), "page lent to heap " + p.ownerHeap() + ", which is not in the dump");
        } else if (p.owner() == OWNER_LENT && p.ownerHeap() == s.heapId()) {
            add(out, p.start(), "page lent to heap " + p.ownerHeap() + ", which owns its segment");
        } else if (p.owner() == OWNER_POOLED && (p.queue() != QUEUE_NONE || p.flag(PAGE_IN_FULL))) {
            add(out, p.start(), "pooled page is in a heap's " + (p.queue() == QUEUE_BIN ? "queue" : "full queue"));
        }
    }

    private static void page(PageInfo p, SegmentInfo s, List<Report> out) {
        long where = p.start();
        if (p.huge() != s.huge() || p.huge() != p.flag(PAGE_HUGE)) {
            add(out, where, "huge flag " + p.flag(PAGE_HUGE) + ", bin " + p.bin() + " in a " + s.kindName()
                    + " segment");
        } else if (!p.huge() && binBlockSize(p.bin()) != p.blockSize()) {
            add(out, where, "bin " + p.bin() + " does not match block size " + p.blockSize());
        }
        if (p.used() < 0 || p.used() > p.capacity() || p.capacity() > p.reserved()) {
            add(out, where, "capacity " + p.capacity() + ", reserved " + p.reserved() + ", used " + p.used());
        }
        long areaStart = s.base() + (s.huge() ? s.metadataSize()
                : Math.max((long) p.index() << s.pageShift(), s.metadataSize()));
        long areaEnd = s.huge() ? s.base() + s.size() : s.base() + ((long) (p.index() + 1) << s.pageShift());
        if (Long.compareUnsigned(p.start(), areaStart) < 0
                || Long.compareUnsigned(p.start() + (long) p.reserved() * p.blockSize(), areaEnd) > 0) {
            add(out, where, p.reserved() + " blocks of " + p.blockSize() + " bytes do not fit in the page area "
                    + new Hex(areaStart).text() + ".." + new Hex(areaEnd).text());
        }
        if ((long) p.used() + p.free() + p.localFree() != p.capacity() || p.xthreadFree() > p.used()) {
            add(out, where, "used " + p.used() + " (of which " + p.xthreadFree() + " on the cross-thread list) + free "
                    + p.free() + " + local " + p.localFree() + " != capacity " + p.capacity());
        }
        if (p.liveBlocks() != (long) p.used() - p.xthreadFree()) {
            add(out, where, "live bitmap has " + p.liveBlocks() + " blocks, counts say " + p.used() + " - "
                    + p.xthreadFree());
        }
        String[] names = {"free", "localFree", "xthreadFree"};
        for (int bit = 0; bit < 3; bit++) {
            if ((p.listErrors() & (1 << bit)) != 0) {
                add(out, where, names[bit] + " list links outside the page's blocks or repeats a block (cycle or"
                        + " double free)");
            }
        }
        if (p.mismatches() != 0) {
            add(out, where, p.mismatches() + " checked-mode live/remote bits disagree with the free lists");
        }
        if (p.queue() == QUEUE_BIN && p.flag(PAGE_IN_FULL)) {
            add(out, where, "page in the queue of bin " + p.bin() + " has the in-full flag");
        }
        if (p.queue() == QUEUE_FULL && !p.flag(PAGE_IN_FULL)) {
            add(out, where, "page in the full queue of bin " + p.bin() + " lacks the in-full flag");
        }
        // the blocks carved so far must be committed; a huge block aligned past its header leaves a gap that is not
        long blocksOffset = Math.max(p.start(), areaStart) - s.base();
        if (!covered(s.committed(), blocksOffset, Math.min(areaEnd - areaStart, p.blockSize() * p.capacity()))) {
            add(out, where, "page in use is not committed");
        }
    }

    private static boolean covered(long[] ranges, long offset, long length) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] <= offset && offset + length <= ranges[i] + ranges[i + 1]) {
                return true;
            }
        }
        return length <= 0;
    }

    private static void add(List<Report> out, long address, String what) {
        out.add(new Report().put("address", new Hex(address)).put("violation", what));
    }
}
