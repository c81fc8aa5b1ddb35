# 1000 branches: far beyond a page of options, sent in fsconfig pieces that
# each fit 255 bytes and re-join to the whole list.
. "$CLI_DIR/common.sh"
mkdir -p "$T/m/merged"
cd "$T/m"
real=$(pwd -P)
dirs= want=
i=0
while [ $i -lt 1000 ]; do
	mkdir "layer-$i"
	dirs="$dirs${dirs:+:}layer-$i"
	[ $i -eq 0 ] && perm=rw || perm=ro
	want="$want${want:+:}$real/layer-$i=$perm"
	i=$((i + 1))
done
run "$MOUNT_HELPER" none merged -fv -o "dirs=$dirs"
expect_rc 0
grep '^mount.cppaufs: fsconfig br=' "$T/out" | sed 's/^mount.cppaufs: fsconfig br=//' >"$T/pieces"
n=$(wc -l <"$T/pieces")
[ "$n" -gt 1 ] || fail "expected several pieces, got $n"
too_long=$(awk 'length($0) > 255' "$T/pieces" | wc -l)
[ "$too_long" -eq 0 ] || fail "$too_long pieces exceed 255 bytes"
[ "$(paste -sd: "$T/pieces")" = "$want" ] || fail "pieces do not re-join to the list"

# 1000 + 23 = 1023 fit; the 1024th is one too many.
extra=
i=0
while [ $i -lt 24 ]; do
	mkdir "extra-$i"
	extra="$extra${extra:+:}extra-$i"
	i=$((i + 1))
done
run "$MOUNT_HELPER" none merged -f -o "dirs=$dirs,br=${extra%:extra-23}"
expect_rc 0
run "$MOUNT_HELPER" none merged -f -o "dirs=$dirs,br=$extra"
expect_rc 32
expect_err 'mount.cppaufs: br: too many branches (at most 1023)'
