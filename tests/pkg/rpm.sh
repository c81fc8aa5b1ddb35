#!/bin/bash
# pkg/rpm: `packaging/build-rpm.sh` (make rpm) builds cppaufs-dkms (noarch)
# and cppaufs-tools with packaging/rpm/cppaufs.spec, and
#   - the spec's version is the project's;
#   - each package holds exactly the expected files (rpm -qpl): the module
#     source and dkms.conf under /usr/src/cppaufs-<version>/, the programs,
#     manual pages and completion in cppaufs-tools;
#   - cppaufs-dkms's %post runs dkms add, build and install and its %preun
#     dkms remove --all, for cppaufs/<version> (rpm -qp --scripts), and it
#     requires dkms and kernel-devel (rpm -qp --requires);
#   - cppaufs-tools has no scriptlets and does not require dkms;
#   - rpmlint, if installed, finds no error;
#   - nothing is built in the source tree.
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
command -v rpmbuild >/dev/null || skip "rpmbuild is not installed (make setup)"

ver=$(pkg_version)
spec=$REPO/packaging/rpm/cppaufs.spec
check_eq "spec Version" "$ver" "$(sed -n 's/^Version:[[:space:]]*//p' "$spec")"

section "build"
out=$WORK/out
if ! "$REPO/packaging/build-rpm.sh" --out "$out" --work "$WORK/work"; then
	fail "build-rpm.sh failed"
	exit 1
fi
rel=$(sed -n 's/^Release:[[:space:]]*\([0-9]*\).*/\1/p' "$spec")
dkms_rpm=$out/cppaufs-dkms-$ver-$rel.noarch.rpm
tools_rpm=''
for f in "$out"/cppaufs-tools-"$ver"-"$rel".*.rpm; do [ -e "$f" ] && tools_rpm=$f; done
check "cppaufs-dkms is noarch" test -s "$dkms_rpm"
check "cppaufs-tools built" test -s "${tools_rpm:-/nonexistent}"
check "source package built, in src/" test -s "$out/src/cppaufs-$ver-$rel.src.rpm"
check_eq "what dnf install ./cppaufs-*.rpm in the output directory installs" \
	"cppaufs-dkms-$ver-$rel.noarch.rpm ${tools_rpm##*/}" \
	"$(cd "$out" && echo cppaufs-*.rpm)"
check_eq "build products in the source tree" "" "$(tree_products)"

# files RPM: its files, not directories (rpm -qpl lists both).
files() {
	rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$1" 2>/dev/null |
		awk '$1 !~ /^d/ { print $2 }' | sort
}

section "cppaufs-dkms"
src=/usr/src/cppaufs-$ver
want=$( {
	printf '%s\n' "/usr/share/doc/cppaufs-dkms-$ver/README.md" \
		"$src/dkms.conf" "$src/Makefile" "$src/Kbuild" "$src/mk/packages.mk"
	pkg_source_files kmod include | sed "s|^|$src/|"
} | sort)
check_eq "rpm -qpl cppaufs-dkms" "$want" "$(files "$dkms_rpm")"
check_has "rpm -qpl lists the source directories" "$(rpm -qpl "$dkms_rpm")" \
	"$src" "$src/kmod" "$src/include"
req=$(rpm -qp --requires "$dkms_rpm" 2>/dev/null)
check_has "requires dkms and kernel-devel" "$req" dkms kernel-devel
scripts=$(rpm -qp --scripts "$dkms_rpm" 2>/dev/null)
post=$(sed -n '/^postinstall scriptlet/,/^[a-z]* *scriptlet/p' <<<"$scripts")
preun=$(sed -n '/^preuninstall scriptlet/,/^[a-z]* *scriptlet/p' <<<"$scripts")
for step in add build install; do
	check_grep "%post: dkms $step cppaufs/$ver" \
		"^dkms $step -m cppaufs -v $ver( |\$)" "$post"
done
check_grep "%post: add, build, install in that order" \
	'add.*build.*install' "$(grep -o '^dkms [a-z]*' <<<"$post" | tr '\n' ' ')"
check_grep "%preun: dkms remove --all cppaufs/$ver" \
	"^dkms remove -m cppaufs -v $ver --all" "$preun"
x=$WORK/dkms-rpm
mkdir -p "$x"
(cd "$x" && rpm2cpio "$dkms_rpm" | cpio --quiet -idm)
check_has "dkms.conf: name and version" "$(cat "$x/$src/dkms.conf")" \
	'PACKAGE_NAME="cppaufs"' "PACKAGE_VERSION=\"$ver\""
check_eq "dkms.conf is the tree's, version aside" "" \
	"$(diff <(grep -v '^PACKAGE_VERSION=' "$REPO/dkms.conf") \
		<(grep -v '^PACKAGE_VERSION=' "$x/$src/dkms.conf"))"

section "cppaufs-tools"
want=$(printf '%s\n' /usr/bin/auctl /usr/sbin/mount.cppaufs \
	/usr/share/bash-completion/completions/auctl \
	"/usr/share/doc/cppaufs-tools-$ver/README.md" \
	/usr/share/man/man5/cppaufs.5 /usr/share/man/man8/auctl.8 \
	/usr/share/man/man8/mount.cppaufs.8 | sort)
# Build-id links under /usr/lib/.build-id and compressed manual pages
# depend on the rpm configuration of the build host.
check_eq "rpm -qpl cppaufs-tools" "$want" \
	"$(files "$tools_rpm" | grep -v '^/usr/lib/\.build-id/' | sed 's/\.gz$//')"
check_eq "no scriptlets" "" "$(rpm -qp --scripts "$tools_rpm" 2>/dev/null)"
check_eq "does not require dkms" "" \
	"$(rpm -qp --requires "$tools_rpm" 2>/dev/null | grep -i dkms)"
check_grep "requires libmount" '^libmount\.so' "$(rpm -qp --requires "$tools_rpm" 2>/dev/null)"
t=$WORK/tools-rpm
mkdir -p "$t"
(cd "$t" && rpm2cpio "$tools_rpm" | cpio --quiet -idm)
check "packaged mount.cppaufs runs" "$t/usr/sbin/mount.cppaufs" --help
check "packaged auctl runs" "$t/usr/bin/auctl" --help

if command -v rpmlint >/dev/null; then
	section "rpmlint"
	lint=$(rpmlint "$dkms_rpm" "$tools_rpm" 2>&1)
	printf '%s\n' "$lint"
	check_eq "rpmlint errors" "" "$(grep -E '^[^ ]+: E: ' <<<"$lint")"
fi
