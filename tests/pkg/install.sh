#!/bin/bash
# pkg/install: `make install` puts exactly the tools, the manual pages and
# the bash completion under DESTDIR/PREFIX (the helper in sbin, where
# mount(8) looks), the programs run, and `make uninstall` with the same
# DESTDIR and PREFIX removes every file again; for PREFIX /usr and
# /usr/local.
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"

expected() {
	local p=${1#/}
	printf '%s\n' "$p/bin/auctl" "$p/sbin/mount.cppaufs" \
		"$p/share/bash-completion/completions/auctl" \
		"$p/share/man/man5/cppaufs.5" "$p/share/man/man8/auctl.8" \
		"$p/share/man/man8/mount.cppaufs.8" | sort
}

for prefix in /usr /usr/local; do
	section "make install PREFIX=$prefix"
	root=$WORK/root${prefix//\//-}
	if ! make -s -C "$REPO" install DESTDIR="$root" PREFIX="$prefix" \
		INSTALL_BUILD="$WORK/build" >"$WORK/install.log" 2>&1; then
		fail "make install PREFIX=$prefix: $(tail -n 20 "$WORK/install.log")"
		continue
	fi
	check_eq "installed files" "$(expected "$prefix")" \
		"$(cd "$root" && find . ! -type d | sed 's|^\./||' | sort)"
	p=$root$prefix
	check "mount.cppaufs runs" "$p/sbin/mount.cppaufs" --help
	check "auctl runs" "$p/bin/auctl" --help
	check "auctl is executable by all" test "$(stat -c %a "$p/bin/auctl")" = 755
	for page in cppaufs.5 auctl.8 mount.cppaufs.8; do
		check "$page is the source page" cmp "$REPO/man/$page" \
			"$p/share/man/man${page##*.}/$page"
	done
	check "completion is the source file" cmp "$REPO/completions/auctl" \
		"$p/share/bash-completion/completions/auctl"

	section "make uninstall PREFIX=$prefix"
	check "make uninstall" make -s -C "$REPO" uninstall DESTDIR="$root" PREFIX="$prefix"
	check_eq "files left" "" "$(cd "$root" && find . ! -type d)"
done
check_eq "build products in the source tree" "" "$(tree_products)"
