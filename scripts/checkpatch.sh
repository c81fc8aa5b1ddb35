#!/bin/bash
# Run the kernel's checkpatch.pl over the module sources.  The script comes
# from Debian's linux-source package (installed by scripts/setup.sh) and is
# unpacked once into build/checkpatch/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$top/build/checkpatch
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)

if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
	[ -n "$tarball" ] || { echo "checkpatch: no linux-source tarball" >&2; exit 2; }
	base=$(basename "$tarball" .tar.xz)
	mkdir -p "$dir"
	tar -xJf "$tarball" -C "$dir" --strip-components=1 \
		"$base/scripts/checkpatch.pl" "$base/scripts/spelling.txt" \
		"$base/scripts/const_structs.checkpatch"
fi
# Outside a kernel tree; no git lookups for commit ids.
cd "$top"
exec perl "$dir/scripts/checkpatch.pl" --no-tree --no-signoff --quiet \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,LINUX_VERSION_CODE,CONSTANT_COMPARISON -f kmod/*.c kmod/*.h
