#!/bin/bash
# auctl against live mounts: list, show by si_<id>, <id> and mount point,
# --json output checked field by field against sysfs, errors and exit codes.
# vm-kernels: newest
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

cpa_install_tools || skip "the tools are not built ($CPPAUFS_BUILD/tools/mount.cppaufs)"
command -v auctl >/dev/null || skip "auctl is not built"

T=/tmp/ac
mkdir -p "$T"/{l1,l2,l3,x,m1,m2}
echo l1 >"$T/l1/container.txt"
si_of() { sed -n "s|.* $1 cppaufs .*si=\([0-9a-f]*\).*|\1|p" /proc/mounts; }

section "mounts"
run mount -t cppaufs -o "dirs=$T/l1:$T/l2=rr:$T/l3" none "$T/m1"
run mount -t cppaufs -o "dirs=$T/x=ro" images "$T/m2"
si1=$(si_of "$T/m1") si2=$(si_of "$T/m2")
[[ $si1 =~ ^[0-9a-f]{16}$ && $si2 =~ ^[0-9a-f]{16}$ ]] && pass "si ids $si1 $si2" || fail "si ids: '$si1' '$si2'"

section "auctl list"
run auctl list
out=$(auctl list)
grep -Eq "^$T/m1 +si_$si1 +3 +none\$" <<<"$out" && pass "list row of m1" || fail "list row of m1 missing: $out"
grep -Eq "^$T/m2 +si_$si2 +1 +images\$" <<<"$out" && pass "list row of m2" || fail "list row of m2 missing: $out"
assert_eq 3 "$(wc -l <<<"$out")" "lines of auctl list (header + 2 mounts)"
out=$(auctl list --json)
res=$(printf '%s' "$out" | python3 -c '
import json, sys
T, si1, si2 = sys.argv[1:]
d = json.load(sys.stdin)
got = sorted((m["target"], m["si"], m["branches"], m["source"]) for m in d["mounts"])
want = sorted([(T + "/m1", "si_" + si1, 3, "none"), (T + "/m2", "si_" + si2, 1, "images")])
print("ok" if got == want else "got %r want %r" % (got, want))
' "$T" "$si1" "$si2" 2>&1)
assert_eq ok "$res" "auctl list --json matches the mounts"

section "auctl show"
run auctl show "si_$si1"
want_rn="0 $T/l1 rw 0
1 $T/l2 rr 1
2 $T/l3 ro 2"
assert_eq "$want_rn" "$(auctl show -rn "si_$si1")" "auctl show -rn si_<id>"
assert_eq "$want_rn" "$(auctl show -rn "$si1")" "auctl show -rn <id>"
assert_eq "$want_rn" "$(auctl show -rn "$T/m1")" "auctl show -rn <mount point>"
assert_eq "$want_rn" "$(auctl show -rn "$T/m1/")" "auctl show -rn <mount point>/"
out=$(auctl show "$T/m1")
grep -q "^xino: $T/l1/.aufs.xino\$" <<<"$out" && pass "xino line of the table" || fail "no xino line: $out"
assert_eq "$(auctl show "si_$si1")" "$out" "table by si_<id> and by mount point"

check_json() { # mount point, si
	auctl show --json "$1" | python3 -c '
import json, os, sys
si = sys.argv[1]
S = "/sys/fs/cppaufs/si_" + si
rd = lambda n: open(os.path.join(S, n)).read().rstrip("\n")
d = json.load(sys.stdin)
bad = []
if d["si"] != "si_" + si:
    bad.append("si %r" % d["si"])
xi = rd("xi_path")
if d["xino"] != (xi or None):
    bad.append("xino %r, sysfs %r" % (d["xino"], xi))
n = len([f for f in os.listdir(S) if f.startswith("brid")])
if len(d["branches"]) != n:
    bad.append("%d branches, sysfs %d" % (len(d["branches"]), n))
for i, b in enumerate(d["branches"]):
    if b["index"] != i or "%s=%s" % (b["path"], b["perm"]) != rd("br%d" % i) or b["brid"] != int(rd("brid%d" % i)):
        bad.append("branch %d: %r" % (i, b))
print("; ".join(bad) or "ok")
' "$2" 2>&1
}
assert_eq ok "$(check_json "$T/m1" "$si1")" "auctl show --json m1 against sysfs"
assert_eq ok "$(check_json "$T/m2" "$si2")" "auctl show --json m2 against sysfs (no xino)"

section "errors"
rc=0; err=$(auctl show si_0123456789abcdef 2>&1 >/dev/null) || rc=$?
assert_eq "1 auctl: error: si_0123456789abcdef: no such cppaufs instance" "$rc $err" "show of an unknown si id"
rc=0; err=$(auctl show /tmp 2>&1 >/dev/null) || rc=$?
assert_eq "1 auctl: error: /tmp: not a cppaufs mount point (it is tmpfs)" "$rc $err" "show of a tmpfs mount point"
assert_fails_with "unknown command 'frobnicate'" auctl frobnicate

section "after umount"
run umount "$T/m2"
out=$(auctl list)
grep -q "si_$si2" <<<"$out" && fail "m2 still listed: $out" || pass "m2 no longer listed"
rc=0; err=$(auctl show "si_$si2" 2>&1 >/dev/null) || rc=$?
assert_eq "1 auctl: error: si_$si2: no such cppaufs instance" "$rc $err" "show of an unmounted si id"
run umount "$T/m1"

section "module not loaded"
if [ -n "${CPPAUFS_MODULE:-}" ] && rmmod cppaufs; then
	rc=0; err=$(auctl list 2>&1 >/dev/null) || rc=$?
	assert_eq "1 auctl: error: cppaufs module is not loaded" "$rc $err" "auctl list without the module"
	ok insmod "$CPPAUFS_MODULE"
else
	fail "cannot unload the module for the not-loaded check"
fi
