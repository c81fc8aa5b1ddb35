#!/bin/bash
# Build the cppaufs-dkms and cppaufs-tools .rpms (make rpm).
#
#   packaging/build-rpm.sh [--out DIR] [--work DIR]
#
# A tarball of the working tree (uncommitted edits included, build products
# and ignored files left out) is built with packaging/rpm/cppaufs.spec in a
# private rpmbuild tree under the work directory (default
# build/pkg/work/rpm).  The .rpms land in --out (default build/pkg/rpm), the
# .src.rpm in its src/.  On a system whose rpm
# database does not hold the build dependencies (Debian: they are .debs),
# rpmbuild runs with --nodeps and without debuginfo packages.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPEC=$REPO/packaging/rpm/cppaufs.spec
out=$REPO/build/pkg/rpm
work=''
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=${2:?}; shift 2 ;;
	--work) work=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "build-rpm: unknown argument $1" >&2; exit 2 ;;
	esac
done
command -v rpmbuild >/dev/null ||
	{ echo "build-rpm: rpmbuild is missing (make setup)" >&2; exit 1; }

version=$(sed -n 's/^Version:[[:space:]]*//p' "$SPEC")
work=${work:-$REPO/build/pkg/work/rpm}
rm -rf "$work"
mkdir -p "$work"/{SOURCES,SPECS,BUILD,BUILDROOT,RPMS,SRPMS,tree} "$out"
"$REPO/packaging/copy-tree.sh" "$REPO" "$work/tree/cppaufs-$version"
tar -C "$work/tree" --owner=0 --group=0 --sort=name -czf \
	"$work/SOURCES/cppaufs-$version.tar.gz" "cppaufs-$version"
cp "$SPEC" "$work/SPECS/"

args=(--define "_topdir $work")
if ! rpm -q rpm >/dev/null 2>&1; then
	# Not an rpm-based system: BuildRequires cannot be checked, and the
	# debuginfo tooling is not set up for it.
	args+=(--nodeps --define "debug_package %{nil}")
fi
rpmbuild -ba "${args[@]}" "$work/SPECS/cppaufs.spec" >"$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log" >&2
	echo "build-rpm: rpmbuild failed, log: $work/build.log" >&2
	exit 1
}

# The source package goes to a directory of its own: `dnf install
# ./cppaufs-*.rpm` in the output directory installs the two packages.
rm -f "$out"/cppaufs-*"$version"-*.rpm "$out"/src/cppaufs-*"$version"-*.src.rpm
mkdir -p "$out/src"
n=0
for f in "$work"/RPMS/*/*.rpm "$work"/SRPMS/*.rpm; do
	[ -e "$f" ] || continue
	case $f in
	*.src.rpm) dest=$out/src ;;
	*) dest=$out ;;
	esac
	cp "$f" "$dest/"
	echo "build-rpm: $dest/${f##*/}"
	n=$((n + 1))
done
[ "$n" -ge 3 ] || { echo "build-rpm: expected 2 packages and a source package, got $n" >&2; exit 1; }
