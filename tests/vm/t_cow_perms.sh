#!/bin/bash
# vm-args: --timeout 600
# Permissions through the union for an unprivileged user (nobody, by
# setpriv): no write to a lower file it could not write before, no read of
# a 0600 root file (also after a copy-up), setuid/setgid dropped on write to
# a copied-up file exactly as on a plain tmpfs, no create/remove in a
# directory it cannot write, sticky directories, and the internal files of
# the writable branch unreachable through the union.  Branches on one ext4
# (on tmpfs, creating a new name currently deadlocks; see t_cow_ops.sh).
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

T=/tmp/cow-perms
mkfs_loop ext4 "$T"
chmod 0755 "$T"
cd "$T"
mkdir u l2 m
chmod 0755 u l2 m
# the same operations on a plain tmpfs, outside the union, for comparison
mkfs_loop tmpfs "$T/plain" 16M
# nobody, no supplementary groups, no capabilities
nob() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# lower fixtures, all root's
echo ro >l2/ro && chmod 0644 l2/ro
echo secret >l2/secret && chmod 0600 l2/secret
mkdir -m 0700 l2/private && echo inner >l2/private/f
mkdir -m 0755 l2/rodir && echo f >l2/rodir/f
mkdir -m 1777 l2/pub && echo root >l2/pub/rootfile && chmod 0666 l2/pub/rootfile
for f in suid sgid both; do echo "$f" >"l2/$f"; echo "$f" >"plain/$f"; done
chmod 4777 l2/suid plain/suid
chmod 2777 l2/sgid plain/sgid
chmod 6777 l2/both plain/both
echo up >u/usuid && chmod 4777 u/usuid
echo up >plain/usuid && chmod 4777 plain/usuid
echo cap >l2/cap && chmod 0777 l2/cap
echo cap >plain/cap && chmod 0777 plain/cap
setcap cap_net_raw+ep l2/cap && setcap cap_net_raw+ep plain/cap
snap() { find l2/ -printf '%p %y %s %m %U:%G %T@ %C@\n' | LC_ALL=C sort; }
snap >"$T/lower.before"
run cpa_mount m ./u:./l2
run setpriv --reuid=65534 --regid=65534 --clear-groups -- id

section "no write to a lower file nobody could not write"
assert_fails_with "Permission denied" nob bash -c 'echo x >> m/ro'
assert_fails_with "Permission denied" nob truncate -s 0 m/ro
assert_fails_with "Operation not permitted" nob chmod 0666 m/ro
assert_fails_with "Permission denied" nob touch -d @1 m/ro   # touch reports its open(2)
assert_fails_with "Operation not permitted" nob chown 65534 m/ro
assert_file_content m/ro ro
ok test ! -e u/ro

section "no read of a 0600 root file"
assert_fails_with "Permission denied" nob cat m/secret
assert_fails_with "Permission denied" nob cat m/private/f
assert_fails_with "Permission denied" nob ls m/private
run touch m/secret m/private/f   # root: copy-up
ok test -f u/secret
assert_eq "600 0:0" "$(stat -c '%a %u:%g' u/secret)" "mode and owner of the copied-up secret"
assert_eq "700 0:0" "$(stat -c '%a %u:%g' u/private)" "mode and owner of the copied-up parent private"
assert_fails_with "Permission denied" nob cat m/secret
assert_fails_with "Permission denied" nob cat m/private/f
assert_fails_with "Permission denied" nob cat u/secret

section "set-id bits and capabilities dropped on write, as on a plain tmpfs"
for f in suid sgid both usuid cap; do
	run nob bash -c "echo write >> plain/$f"
	run nob bash -c "echo write >> m/$f"
	assert_eq "$(stat -c %A "plain/$f")" "$(stat -c %A "m/$f")" "union mode of $f after nobody wrote (plain tmpfs: $(stat -c %a "plain/$f"))"
	assert_eq "$(stat -c %A "plain/$f")" "$(stat -c %A "u/$f")" "upper mode of $f after nobody wrote"
	assert_file_content "m/$f" "$(cat "plain/$f")"
done
assert_eq "" "$(getcap plain/cap)" "plain cap after nobody wrote"
assert_eq "" "$(getcap u/cap)" "upper cap after nobody wrote"
ok test -u l2/suid
ok test -g l2/sgid

section "no create or remove in a directory nobody cannot write"
assert_fails_with "Permission denied" nob touch m/rodir/new
assert_fails_with "Permission denied" nob mkdir m/rodir/d
assert_fails_with "Permission denied" nob ln -s x m/rodir/sym
assert_fails_with "Permission denied" nob rm -f m/rodir/f
assert_fails_with "Permission denied" nob mv m/rodir/f m/rodir/g
assert_fails_with "Permission denied" nob touch m/new
ok test ! -e u/rodir
ok test ! -e u/new
# a sticky world-writable directory: create yes, remove another's file no
run nob touch m/pub/mine
assert_eq "65534:65534" "$(stat -c %u:%g u/pub/mine)" "owner of nobody's new file on the writable branch"
assert_eq "1777" "$(stat -c %a u/pub)" "mode of the copied-up sticky directory"
assert_fails_with "Operation not permitted" nob rm -f m/pub/rootfile
assert_fails_with "Operation not permitted" nob mv m/pub/rootfile m/pub/moved
assert_file_content m/pub/rootfile root
run nob rm m/pub/mine
ok test ! -e u/pub/mine

section "internal files of the writable branch are out of reach"
run ls -A u
assert_eq "" "$(ls -A m | grep -E '^(\.wh\.|\.aufs)' || true)" "internal names listed in the union root"
for n in .aufs.xino .wh..wh.aufs .wh..wh.orph .wh..wh.plnk; do
	assert_fails_with "No such file" stat "m/$n"
	assert_fails_with "No such file" nob stat "m/$n"
	assert_fails_with "No such file" rm -- "m/$n/x"
	assert_fails_with "No such file" mv "m/$n" m/moved
	assert_fails_with "" bash -c "echo x > m/$n"
	assert_fails_with "" nob bash -c "echo x > m/$n"
done
assert_fails_with "No such file" rm "m/.wh..wh.aufs"
assert_fails_with "No such file" rmdir "m/.wh..wh.orph"
ok test -f u/.aufs.xino
ok test -f u/.wh..wh.aufs
assert_eq 0 "$(stat -c %s u/.wh..wh.aufs)" "size of .wh..wh.aufs"
ok test -d u/.wh..wh.orph
ok test -d u/.wh..wh.plnk
ok test ! -e u/moved

section "lower branch unchanged"
snap >"$T/lower.after"
if cmp -s "$T/lower.before" "$T/lower.after"; then
	pass "lower branch unchanged"
else
	fail "lower branch changed: $(diff "$T/lower.before" "$T/lower.after" | head)"
fi
assert_eq "cap cap_net_raw=ep" "$(getcap l2/cap | sed 's|l2/||')" "lower cap kept"
cd /
