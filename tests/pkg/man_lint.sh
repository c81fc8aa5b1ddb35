#!/bin/bash
# pkg/man-lint: the manual pages render without a groff (-ww) or mandoc
# (-T lint -W warning) warning, and they document what the code has:
#   - auctl(8): every option, command and column of `auctl --help`;
#   - mount.cppaufs(8): every option of `mount.cppaufs --help`;
#   - cppaufs(5): every mount option of the module's parameter table
#     (kmod/params.c), the on-disk names, sysfs names and the branch limit
#     of include/cppaufs.h.
# CTest sets AUCTL and MOUNT_HELPER (the built programs).
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
: "${AUCTL:?}" "${MOUNT_HELPER:?}"
M=$REPO/man

section "lint"
pages=("$M"/*.[0-9])
check_eq "pages in man/" "auctl.8 cppaufs.5 mount.cppaufs.8" \
	"$(cd "$M" && echo *.[0-9])"
for p in "${pages[@]}"; do
	check "${p##*/}: no groff or mandoc warning" "$REPO/packaging/man-lint.sh" "$p"
done

# The text of a page as rendered, one word or option a line, so that
# line breaks and font changes do not matter.
rendered() {
	LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 -P-cbou "$1" 2>/dev/null |
		sed 's/[][[:space:],()]\{1,\}/\n/g'
}

section "auctl(8) covers auctl --help"
help=$("$AUCTL" --help)
page=$(rendered "$M/auctl.8")
mapfile -t opts < <(grep -oE -- '^ +-[A-Za-z] \[ --[a-z-]+ \]' <<<"$help" |
	tr -d '[]' | tr -s ' ' '\n' | grep -- '^-')
[ ${#opts[@]} -ge 8 ] || fail "could not read the options of auctl --help: $help"
check_has "auctl options" "$page" "${opts[@]}"
mapfile -t cols < <(sed -n '/^Columns/,$s/^  \([A-Z]\+\) .*/\1/p' <<<"$help")
[ ${#cols[@]} -ge 8 ] || fail "could not read the columns of auctl --help"
check_has "auctl columns" "$page" "${cols[@]}"
mapfile -t cmds < <(sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' <<<"$help")
check_has "auctl commands" "$page" "${cmds[@]}"

section "mount.cppaufs(8) covers mount.cppaufs --help"
help=$("$MOUNT_HELPER" --help)
page=$(rendered "$M/mount.cppaufs.8")
mapfile -t opts < <(sed -n '/^Options:/,$s/^  \(-[A-Za-z]\).*/\1/p' <<<"$help")
[ ${#opts[@]} -ge 7 ] || fail "could not read the options of mount.cppaufs --help: $help"
check_has "mount.cppaufs options" "$page" "${opts[@]}" --help

section "cppaufs(5) covers the module"
page=$(rendered "$M/cppaufs.5")
# String macros of the shared header and of params.c.
declare -A def
while read -r name value; do
	def[$name]=$value
done < <(sed -n 's/^#define[[:space:]]\+\([A-Z_]\+\)[[:space:]]\+"\([^"]*\)".*/\1 \2/p' \
	"$REPO/include/cppaufs.h" "$REPO/kmod/params.c")
# ... and those that paste a macro and a string: #define X Y "str".
while read -r name macro value; do
	def[$name]=${def[$macro]:-}$value
done < <(sed -n 's/^#define[[:space:]]\+\([A-Z_]\+\)[[:space:]]\+\([A-Z_]\+\)[[:space:]]\+"\([^"]*\)".*/\1 \2 \3/p' \
	"$REPO/include/cppaufs.h")
# The parameter table: one <something>fsparam<something>(..., NAME, ...)
# per option, NAME the first upper-case argument; "flag" in the macro's
# name means no value, "flag_no" also accepts no<NAME>.
mapfile -t specs < <(sed -n '/fs_parameter_spec/,/^};/p' "$REPO/kmod/params.c" |
	grep -o '[A-Za-z_]*fsparam[A-Za-z_]*([^)]*' |
	sed 's/(/ /; s/,/ /g' | awk '{
		for (i = 2; i <= NF; i++) if ($i ~ /^[A-Z][A-Z0-9_]*$/) { print $1, $i; break }
	}')
[ ${#specs[@]} -ge 5 ] || fail "could not read the parameter table of kmod/params.c"
want=()
for s in "${specs[@]}"; do
	func=${s%% *} macro=${s#* }
	opt=${def[$macro]:-}
	[ -n "$opt" ] || { fail "no string for $macro"; continue; }
	if [[ $func == *flag* ]]; then
		want+=("$opt")
	else
		# Options with a value are documented as "name=..."
		grep -qE "^$opt=" <<<"$page" || fail "cppaufs(5) does not document $opt="
	fi
	[[ $func != *flag_no* ]] || want+=("no$opt")
done
check_has "mount options of kmod/params.c" "$page" "${want[@]}"
names=()
for m in CPPAUFS_WH_OPQ CPPAUFS_WH_BASE CPPAUFS_XINO_NAME CPPAUFS_XATTR_METACOPY \
	CPPAUFS_SYSFS_XI_PATH CPPAUFS_PERM_RW CPPAUFS_PERM_RO CPPAUFS_PERM_RR; do
	names+=("${def[$m]:-<$m>}")
done
names+=("${def[CPPAUFS_WH_PLINK]}/" "${def[CPPAUFS_WH_ORPH]}/")
check_has "on-disk, sysfs and permission names of include/cppaufs.h" "$page" "${names[@]}"
wh=${def[CPPAUFS_WH_PREFIX]}
check_grep "whiteout prefix $wh<name>" "^${wh//./\\.}name\$" "$page"
check_grep "sysfs directory" "^/sys/fs/${def[CPPAUFS_NAME]}/${def[CPPAUFS_SYSFS_SI_PREFIX]}id/\$" "$page"
for n in br brid; do
	check_grep "sysfs file $n<N>" "^${n}N$" "$page"
done
max=$(sed -n 's/^#define[[:space:]]\+CPPAUFS_BRANCH_MAX[[:space:]]\+\([0-9]\+\).*/\1/p' \
	"$REPO/include/cppaufs.h")
check_has "branch limit $max" "$page" "$max"
