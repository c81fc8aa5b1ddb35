#!/bin/bash
# man-lint.sh PAGE...: fail if groff (-ww, every warning) or mandoc
# (-T lint -W warning) has anything to say about a manual page, or if the
# page renders to nothing.  Both formatters are used: man-db renders with
# groff, and mandoc is stricter about the man(7) macros.
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: man-lint.sh PAGE..." >&2; exit 2; }
for tool in groff mandoc; do
	command -v "$tool" >/dev/null ||
		{ echo "man-lint: $tool is missing (make setup)" >&2; exit 2; }
done
bad=0
for page in "$@"; do
	this=0
	out=$(LC_ALL=C.UTF-8 groff -ww -b -man -Tutf8 -z "$page" 2>&1)
	if [ -n "$out" ]; then
		printf 'man-lint: groff: %s\n%s\n' "$page" "$out"
		this=1
	fi
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		printf 'man-lint: mandoc: %s\n%s\n' "$page" "$out"
		this=1
	fi
	# The NAME section as mandb reads it for whatis(1) and apropos(1).
	name=${page##*/}
	name=${name%.*}
	if command -v lexgrog >/dev/null &&
		! lexgrog "$page" 2>&1 | grep -qF "\"$name - "; then
		printf 'man-lint: %s: lexgrog finds no NAME line "%s - ...": %s\n' \
			"$page" "$name" "$(lexgrog "$page" 2>&1)"
		this=1
	fi
	[ "$this" -ne 0 ] || echo "man-lint: $page: clean"
	bad=$((bad | this))
done
exit "$bad"
