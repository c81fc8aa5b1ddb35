#!/bin/bash
# copy-tree.sh REPO DEST: copy the source tree of REPO to DEST, as the
# packages are built from it: in a git checkout the tracked and untracked
# files that .gitignore does not exclude, as they are in the working tree
# (so uncommitted edits are packaged); otherwise everything but build/.
set -euo pipefail
repo=$1 dest=$2
mkdir -p "$dest"
# A git checkout of its own, not a tree unpacked inside another checkout.
top=$(git -C "$repo" rev-parse --show-toplevel 2>/dev/null || true)
if [ -n "$top" ] && [ "$top" = "$(cd "$repo" && pwd -P)" ]; then
	# Deleted but still tracked files are skipped.
	git -C "$repo" ls-files -z --cached --others --exclude-standard |
		(cd "$repo" && while IFS= read -r -d '' f; do
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
		done) |
		(cd "$repo" && cpio --quiet -0 -pdm "$dest")
else
	(cd "$repo" && find . -path ./build -prune -o ! -name . -print0 |
		cpio --quiet -0 -pdm "$dest")
fi
