/**
 * {@code cairn-inspect}: one class per command, each turning a {@link dev.cairn.tools.heapdump.HeapDump} into a
 * {@link dev.cairn.tools.inspect.Report} that is printed as text or, with {@code --json}, as JSON; the HTML report
 * reuses the same reports. Entry point: {@link dev.cairn.tools.inspect.InspectCli}.
 */
package dev.cairn.tools.inspect;
