# auctl busy: processes using a branch directly, and through the union a
# name whose topmost branch it is. The union is a plain directory standing
# for the mount, with a mount table and sysfs tree made for it.
. "$CLI_DIR/common.sh"
real=$(cd "$T" && pwd -P)
si=$T/sys/fs/cppaufs/si_00000000000000bb
mkdir -p "$T/l1/top" "$T/l2/work" "$T/l2/top" "$T/merged/work" "$T/merged/top" "$si"
: >"$T/l2/file"
echo "$real/l1=rw" >"$si/br0"
echo 0 >"$si/brid0"
echo "$real/l2=ro" >"$si/br1"
echo 1 >"$si/brid1"
echo "60 21 0:45 / $real/merged rw,relatime shared:30 - cppaufs none rw,si=00000000000000bb" \
	>"$T/mountinfo"
busy() {
	"$AUCTL" --sysfs-root "$T/sys" --mountinfo "$T/mountinfo" \
		--filesystems "$FIXTURES/filesystems-with" busy "$@"
}

pids=
trap 'kill $pids 2>/dev/null || true; rm -rf "$T"' EXIT
(cd "$T/l2/work" && exec sleep 60) &
p1=$!
sh -c 'exec 3<"$1"; exec sleep 60' _ "$T/l2/file" &
p2=$!
(cd "$T/merged/work" && exec sleep 60) &
p3=$!
(cd "$T/merged/top" && exec sleep 60) &	# l1's: not on l2
p4=$!
pids="$p1 $p2 $p3 $p4"
# Wait until each has become sleep, its cwd and fd in place.
for _ in $(seq 100); do
	ready=1
	for p in $pids; do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] || ready=0
	done
	[ -e /proc/$p2/fd/3 ] || ready=0
	[ $ready = 1 ] && break
	sleep 0.1
done
[ $ready = 1 ] || fail "the test processes did not start"

want=$(printf '%s\n' "$p1 sleep cwd $real/l2/work" "$p2 sleep fd\\x203 $real/l2/file" \
	"$p3 sleep cwd $real/merged/work" | sort -n)
run busy -rn "$real/merged" "$real/l2"
expect_rc 0
expect_no_err
expect_out "$want"
# The branch by index, the mount by si id.
run busy -rn si_00000000000000bb 1
expect_out "$want"

run busy --json "$real/merged" 1
expect_rc 0
grep -q "\"pid\": $p2," "$T/out" || fail "no pid $p2 in JSON"
grep -q '"what": "fd 3"' "$T/out" || fail "no fd 3 in JSON"
grep -q "\"branch\": \"$real/l2\"" "$T/out" || fail "no branch in JSON"
if command -v python3 >/dev/null; then
	python3 -m json.tool "$T/out" >/dev/null || fail "not valid JSON"
fi

# On l1, only p4's cwd; once p4 is gone, nothing: no output, exit 0.
run busy -rn "$real/merged" "$real/l1/"
expect_rc 0
expect_out "$p4 sleep cwd $real/merged/top"
kill "$p4"
wait "$p4" 2>/dev/null || true
run busy "$real/merged" 0
expect_rc 0
expect_no_out
expect_no_err

run busy "$real/merged" 2
expect_rc 1
expect_err "auctl: error: 2: not a branch of $real/merged"
