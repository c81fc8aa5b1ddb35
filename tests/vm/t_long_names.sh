#!/bin/bash
# vm-args: --timeout 600
# Names of 252 to 255 bytes, too long for an aufs whiteout ".wh.<name>":
# every operation takes them through a merged directory, as on the raw
# file system; removing or renaming a lower one leaves the whiteout
# ".wh..wh.long.<first 16 bytes of the name's SHA-256, hex>" (docs/design.md),
# which hides the name in lookups and listings, across remounts and cache
# drops, and goes away when the name is made again.  Names that fit keep
# the aufs whiteout.  On tmpfs, ext4 and xfs.
# vm-kernels: newest
. "$(dirname "$0")/lib.sh"
require_module

long() { printf "$1%.0s" $(seq "$2"); }
# The whiteout the design names for $1.
wh_of() {
	python3 -c 'import hashlib, sys
n = sys.argv[1].encode()
print(".wh." + n.decode() if len(n) <= 251 else
      ".wh..wh.long." + hashlib.sha256(n).hexdigest()[:32])' "$1"
}
# Names listed through the union, one per line, sorted.
names() { ls -A "$1" | sort; }

n251=$(long a 251)
n252=$(long b 252)
n253=$(long c 253)
n254=$(long d 254)
n255=$(long e 255)
m255=$(long f 255)

for fs in $(vm_fs_list tmpfs ext4 xfs); do
	section "$fs: set-up"
	T=/tmp/long-$fs
	mkfs_loop "$fs" "$T"
	cd "$T"
	mkdir u l m
	for n in "$n251" "$n252" "$n253" "$n254" "$n255"; do
		echo "lower ${#n}" >"l/$n"
	done
	mkdir "l/$m255"
	echo inside >"l/$m255/x"
	snap() { (cd l && find . -printf '%p %s %m\n' | sort | md5sum); }
	before=$(snap)
	cpa_mount m ./u:./l

	section "$fs: lower long names"
	assert_eq "$(printf '%s\n' "$n251" "$n252" "$n253" "$n254" "$n255" \
		"$m255" | sort)" "$(names m)" "listing of the union"
	assert_file_content "m/$n255" "lower 255"
	assert_file_content "m/$m255/x" inside

	section "$fs: create, mkdir, mknod, symlink, link over lower names"
	# Replacing a lower name needs no whiteout; making a new one none either.
	run rm "m/$n252"
	ok test -e "u/$(wh_of "$n252")"
	ok test ! -e "m/$n252"
	run_sh "echo new >'m/$n252'"
	assert_file_content "m/$n252" new
	ok test ! -e "u/$(wh_of "$n252")"
	new255=$(long g 255)
	run mkdir "m/$new255"
	run mkfifo "m/$new255/$(long h 255)"
	run ln -s "$n255" "m/$new255/$(long i 255)"
	run ln "m/$n253" "m/$new255/$(long j 255)"
	assert_eq "$n255" "$(readlink "m/$new255/$(long i 255)")" "symlink target"
	assert_eq "p" "$(stat -c %A "m/$new255/$(long h 255)" | cut -c1)" \
		"type of the fifo"
	assert_file_content "m/$new255/$(long j 255)" "lower 253"
	assert_eq 2 "$(stat -c %h "m/$n253")" "links of the linked lower file"

	section "$fs: unlink, rename and rmdir of lower long names"
	run rm "m/$n254"
	run mv "m/$n255" "m/$(long k 255)"
	run rm -r "m/$m255"
	for n in "$n254" "$n255" "$m255"; do
		ok test ! -e "m/$n"
		ok test -f "u/$(wh_of "$n")"
		ok test -e "l/$n"
	done
	assert_file_content "m/$(long k 255)" "lower 255"
	# The short name keeps the aufs whiteout.
	run rm "m/$n251"
	ok test -f "u/$(wh_of "$n251")"
	# long whiteouts so far: n254, n255 and m255 (n252's went when it
	# was made again), none for the 251-byte name
	assert_eq 3 "$(ls -A u | grep -c '^\.wh\.\.wh\.long\.')" \
		"long whiteouts on the writable branch"
	expect="$(printf '%s\n' "$n252" "$n253" "$new255" "$(long k 255)" | sort)"
	assert_eq "$expect" "$(names m)" "listing after the removals"
	assert_eq "" "$(ls -A m | grep '^\.wh\.' || true)" ".wh. names listed"

	section "$fs: a directory made again over a long whiteout is opaque"
	run mkdir "m/$m255"
	ok test ! -e "u/$(wh_of "$m255")"
	assert_eq "" "$(ls -A "m/$m255")" "listing of the new directory"
	ok test -e "u/$m255/.wh..wh..opq"

	section "$fs: after a cache drop and a remount"
	run_sh 'echo 3 >/proc/sys/vm/drop_caches'
	assert_eq "$(printf '%s\n' "$expect" "$m255" | sort)" "$(names m)" \
		"listing after a cache drop"
	run cpa_umount m
	run cpa_mount m ./u:./l
	assert_eq "$(printf '%s\n' "$expect" "$m255" | sort)" "$(names m)" \
		"listing after a remount"
	for n in "$n251" "$n254" "$n255"; do
		assert_fails_with "No such file" stat "m/$n"
	done
	assert_eq "" "$(ls -A "m/$m255")" "the opaque directory after remount"

	section "$fs: the lower branch is untouched"
	assert_eq "$before" "$(snap)" "lower branch checksum"
	run cpa_umount m
	cd /
done
