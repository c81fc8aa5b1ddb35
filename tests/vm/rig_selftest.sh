#!/bin/bash
# Self-test of the VM rig (host side): boots KVER once per case in
# tests/vm/rig/ and checks that scripts/vm/run.sh passes what must pass and
# fails, for the right reason, what must fail.
#   usage: tests/vm/rig_selftest.sh KVER [CASE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=$here/../../scripts/vm/run.sh
kver=${1:?usage: $0 KVER [CASE...]}
shift

# case | expected exit status | ERE expected in run.sh's output | run.sh args
cases=(
	"pass|0|vm-run: PASS|"
	"unexpected_dmesg|1|cppaufs: bogus|"
	"warning|1|WARNING: CPU: 0 PID: 1 at fs/fake\\.c|"
	"failing|1|the test exited with status 1|"
	# --icount: qemu's spurious debug trap is noted, not judged...
	"icount_db|0|spurious kernel debug exception.*not judged|--icount"
	# ...and hides no other warning
	"icount_db_warning|1|WARNING: CPU: 0 PID: 1 at fs/fake\\.c|--icount"
	# on a loaded host the boot may eat the budget: then qemu is killed
	"hang|1|the test timed out in the guest|ran longer than 30s|--timeout 30"
)
passed=0 failed=0
for c in "${cases[@]}"; do
	name=${c%%|*} rest=${c#*|}
	want_rc=${rest%%|*} rest=${rest#*|}
	want_text=${rest%|*} args=${rest##*|}
	if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
	out=$(mktemp)
	rc=0
	# shellcheck disable=SC2086 # args is a word list
	"$run" --kernel "$kver" --no-module $args -- "$here/rig/$name.sh" >"$out" 2>&1 || rc=$?
	if [ "$rc" -eq "$want_rc" ] && grep -qE -- "$want_text" "$out"; then
		echo "ok: $name (exit $rc, $(grep -o '([0-9.]*s,' "$out" | tr -d '(,'))"
		passed=$((passed + 1))
	else
		echo "FAIL: $name: exit $rc (want $want_rc), \"$want_text\" $(grep -qE -- "$want_text" "$out" && echo found || echo missing)"
		sed 's/^/    | /' "$out"
		failed=$((failed + 1))
	fi
	rm -f "$out"
done
echo "rig_selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
