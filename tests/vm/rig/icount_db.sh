#!/bin/bash
# Rig self-test, run with --icount, must PASS with a note: the warning
# qemu's spurious single-step trap makes the kernel print is not judged.
. "$(dirname "$0")/../lib.sh"
for l in "------------[ cut here ]------------" \
	"WARNING: CPU: 0 PID: 1 at arch/x86/kernel/traps.c:1120 exc_debug_kernel+0xca/0x160" \
	"Modules linked in: cppaufs(OE)" "Call Trace:" " <#DB>" " </#DB>" \
	"---[ end trace 0000000000000000 ]---"; do
	echo "$l" >/dev/kmsg
done
pass "wrote a fake debug-trap warning"
