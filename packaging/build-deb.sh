#!/bin/bash
# Build the cppaufs-dkms and cppaufs-tools .debs (make deb).
#
#   packaging/build-deb.sh [--version V] [--indep] [--out DIR] [--work DIR]
#
# The package is built out of a copy of the working tree (uncommitted edits
# included, build products and ignored files left out) under the work
# directory, so dpkg-buildpackage never writes into the source tree.
# --version V adds a changelog entry for V to the copy (tests use it to
# build an upgrade, e.g. 0.1.0+test1); the default is the version of
# debian/changelog.  --indep builds cppaufs-dkms only (no compiler run).
# The .debs, .buildinfo and .changes land in --out (default build/pkg/deb),
# the build tree in --work (default build/pkg/work/deb-<version>).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$REPO/build/pkg/deb
work=''
version=''
what=-b
while [ $# -gt 0 ]; do
	case $1 in
	--version) version=${2:?}; shift 2 ;;
	--indep) what=-A; shift ;;
	--out) out=${2:?}; shift 2 ;;
	--work) work=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "build-deb: unknown argument $1" >&2; exit 2 ;;
	esac
done
for tool in dpkg-buildpackage dh dh_dkms; do
	command -v "$tool" >/dev/null ||
		{ echo "build-deb: $tool is missing (make setup)" >&2; exit 1; }
done

base=$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)
version=${version:-$base}
work=${work:-$REPO/build/pkg/work/deb-$version}
src=$work/cppaufs-$version

rm -rf "$work"
mkdir -p "$src" "$out"
"$REPO/packaging/copy-tree.sh" "$REPO" "$src"

if [ "$version" != "$base" ]; then
	maint=$(sed -n 's/^Maintainer: //p' "$src/debian/control")
	{
		printf 'cppaufs (%s) unstable; urgency=medium\n\n' "$version"
		printf '  * Rebuild as %s.\n\n' "$version"
		printf ' -- %s  %s\n\n' "$maint" "$(date -R)"
		cat "$REPO/debian/changelog"
	} >"$src/debian/changelog"
fi

# No -dbgsym package: `apt-get install ./cppaufs-*.deb` in the output
# directory then installs exactly the two packages.
export DEB_BUILD_OPTIONS="noautodbgsym${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}"
# Reproducible timestamps: the changelog's date.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Timestamp)
export SOURCE_DATE_EPOCH
(cd "$src" && dpkg-buildpackage -us -uc "$what" --no-sign -j"$(nproc)") \
	>"$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed, log: $work/build.log" >&2
	exit 1
}

arch=$(dpkg --print-architecture)
changes=$work/cppaufs_${version}_${arch}.changes
[ "$what" = -A ] && changes=$work/cppaufs_${version}_all.changes
[ -e "$changes" ] || { echo "build-deb: $changes was not built" >&2; exit 1; }
# Everything the .changes lists (the packages, the .buildinfo), and the
# .changes itself.
mapfile -t files < <(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]\{32\} [0-9]* [^ ]* [^ ]* //p' "$changes")
want=(cppaufs-dkms_"$version"_all.deb)
[ "$what" = -A ] || want+=(cppaufs-tools_"$version"_"$arch".deb)
for f in "${want[@]}"; do
	printf '%s\n' "${files[@]}" | grep -qxF "$f" ||
		{ echo "build-deb: $f was not built" >&2; exit 1; }
done
rm -f "$out"/cppaufs*_"$version"_*
for f in "${files[@]}" "${changes##*/}"; do
	cp "$work/$f" "$out/"
	echo "build-deb: $out/$f"
done
