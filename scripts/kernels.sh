#!/bin/bash
# Fetch the Debian kernels of other releases that the module is built and
# tested against, without installing them on the host: each one's image,
# modules, headers and kbuild packages are downloaded with an apt
# configuration of the project's own and unpacked with dpkg -x under
# build/kernels/<kver>/.  Installing another release's packages would
# replace the host's libc; unpacking them replaces nothing.
#
#   scripts/kernels.sh            fetch (or keep) the kernel of every suite
#   scripts/kernels.sh --list     print the kernel versions fetched so far
#
# Suites (CPPAUFS_KERNEL_SUITES, default "bullseye sid"): bullseye stands in
# for the 5.14/5.15 kernels of RHEL 9 and Ubuntu 22.04, sid's newest kernel
# is the newest Debian packages.  Each suite gets the candidate of its
# linux-image-amd64 metapackage, so a new sid kernel is picked up as soon as
# Debian packages it.  The kernels the host's own release has (6.1, 6.12)
# come from scripts/setup.sh as ordinary packages.
#
# Layout of build/kernels/<kver>/:
#   root/      every package unpacked (dpkg -x)
#   vmlinuz    -> the kernel image
#   modules    -> its /lib/modules/<kver> (or /usr/lib/modules/<kver>)
#   build      -> its headers tree (KDIR for out-of-tree builds)
#   suite      the suite it came from
# Idempotent: a kernel already unpacked is kept; a suite whose index cannot
# be fetched (no network) keeps what it has.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KROOT=${CPPAUFS_KERNELS_DIR:-$REPO/build/kernels}
SUITES=${CPPAUFS_KERNEL_SUITES:-bullseye sid}
MIRROR=${CPPAUFS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

if [ "${1:-}" = --list ]; then
	for d in "$KROOT"/*/; do
		[ -e "$d/done" ] && basename "$d"
	done 2>/dev/null | sort -V
	exit 0
fi

say() { echo "kernels: $*"; }

# The first of the paths given that exists.
first_of() {
	local f
	for f; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	return 0
}

# The newest downloaded .deb of package $2 in suite $1's cache.
deb_of() {
	local debs
	debs=("$KROOT/apt/$1/debs/$2_"*.deb)
	printf '%s\n' "${debs[@]}" | sort -V | tail -n 1
}

# apt with a private configuration for suite $1: sources, state and cache
# under $KROOT/apt/<suite>, no lock on the host's dpkg.
suite_apt() {
	local suite=$1 a=$KROOT/apt/$1
	shift
	"$@" -o Dir::Etc::SourceList="$a/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State="$a/state" -o Dir::State::status="$a/state/status" \
		-o Dir::Cache="$a/cache" -o Debug::NoLocking=1 \
		-o Acquire::Languages=none -o APT::Architecture=amd64 \
		-o APT::Architectures=amd64 -o APT::Sandbox::User=root
}

suite_setup() {
	local suite=$1 a=$KROOT/apt/$1
	mkdir -p "$a/state/lists/partial" "$a/cache/archives/partial" "$a/debs"
	: >>"$a/state/status"
	{
		echo "deb [signed-by=$KEYRING] $MIRROR $suite main"
		case $suite in
		sid | unstable | experimental) ;;
		*) echo "deb [signed-by=$KEYRING] ${MIRROR%/debian}/debian-security $suite-security main" ;;
		esac
	} >"$a/sources.list"
	suite_apt "$suite" apt-get -qq update
}

# The packages a kernel needs, from the image and headers metapackages down:
# only the kernel's own (named after its version) and its kbuild tools.
kernel_packages() {
	local suite=$1 kver=$2 abi=${2%-amd64}
	suite_apt "$suite" apt-cache depends --recurse --no-recommends \
		--no-suggests --no-conflicts --no-breaks --no-replaces \
		--no-enhances "linux-image-$kver" "linux-headers-$kver" |
		grep -E "^linux-(kbuild-|.*${abi//+/\\+})" | sort -u
}

# Version of the kernel the suite's linux-image-amd64 points at (its
# candidate: the newest).
suite_kver() {
	suite_apt "$1" apt-cache depends linux-image-amd64 |
		grep -oE 'linux-image-[0-9][^ ]*-amd64' | head -n 1 |
		sed 's/^linux-image-//'
}

# Host tools of a newer release's kbuild (fixdep, modpost, objtool...) may
# need a newer glibc than the host's: give them that release's libc6 as
# interpreter and library path.  Checked on every run (cheap), so a kernel
# unpacked before this check gets it too.
fix_host_tools() {
	local suite=$1 dir=$2 kbuild f libc ld interp missing=0 tools=()
	kbuild=$(find "$dir/root/usr/lib" -maxdepth 1 -name 'linux-kbuild-*' | head -n 1)
	[ -n "$kbuild" ] || return 0
	while IFS= read -r f; do
		[ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || continue
		tools+=("$f")
		ldd "$f" 2>&1 | grep -q 'GLIBC_.*not found' && missing=1
		# (or patched before, for a libc that moved since)
		interp=$(patchelf --print-interpreter "$f" 2>/dev/null) &&
			[ ! -e "$interp" ] && missing=1
	done < <(find "$kbuild" -type f -perm -u+x)
	[ "$missing" -eq 1 ] || return 0
	say "$(basename "$dir"): kbuild tools need $suite's glibc"
	libc=$dir/libc
	ld=$(first_of "$libc/usr/lib64/ld-linux-x86-64.so.2" \
		"$libc/lib64/ld-linux-x86-64.so.2")
	if [ -z "$ld" ]; then
		(cd "$KROOT/apt/$suite/debs" && suite_apt "$suite" apt-get -qq download libc6)
		rm -rf "$libc"
		dpkg -x "$(deb_of "$suite" libc6)" "$libc"
		ld=$(first_of "$libc/usr/lib64/ld-linux-x86-64.so.2" \
			"$libc/lib64/ld-linux-x86-64.so.2")
	fi
	for f in "${tools[@]}"; do
		patchelf --print-interpreter "$f" >/dev/null 2>&1 || continue
		patchelf --set-interpreter "$ld" --set-rpath \
			"$libc/usr/lib/x86_64-linux-gnu:$libc/lib/x86_64-linux-gnu" "$f"
	done
	for f in "${tools[@]}"; do
		if ldd "$f" 2>&1 | grep -q 'GLIBC_.*not found'; then
			say "$f still does not run"
			return 1
		fi
	done
}

# Features Kconfig found in the compiler the kernel was configured with,
# tested against the host's gcc: name, then a C snippet, or flags after -.
CC_FEATURES=(
	"CC_HAS_COUNTED_BY	struct s { int n; int a[] __attribute__((__counted_by__(n))); };"
	"CC_HAS_COUNTED_BY_PTR	struct s { int n; int *p __attribute__((__counted_by__(n))); };"
	"CC_HAS_MULTIDIMENSIONAL_NONSTRING	char a[2][3] __attribute__((__nonstring__));"
	"CC_HAS_ASSUME	int f(int x) { __attribute__((assume(x > 0))); return x; }"
	"CC_HAS_MIN_FUNCTION_ALIGNMENT	- -fmin-function-alignment=16"
)

# Build the kernel's headers with the host's gcc, which may be older than
# the one the kernel was configured with (gcc-10 for 5.10, gcc-16 for 7.2):
# features the host's gcc lacks are turned off where they only choose
# compiler flags or attributes, never where they change a structure.
adapt_headers() {
	local hdr=$1 f name code flags
	sed -i 's/^CC = .*/CC = gcc/' "$hdr/.kernelvariables"
	for f in "${CC_FEATURES[@]}"; do
		name=${f%%$'\t'*} code=${f#*$'\t'}
		grep -q "^CONFIG_$name=y" "$hdr/include/config/auto.conf" || continue
		if [ "${code:0:2}" = "- " ]; then
			flags=${code#- } code='int x;'
		else
			flags=''
		fi
		# shellcheck disable=SC2086 # flags are words
		gcc -Werror $flags -x c -c -o /dev/null - <<<"$code" 2>/dev/null &&
			continue
		say "$(basename "$hdr"): host gcc lacks $name: off"
		sed -i "s/^CONFIG_$name=y\$/CONFIG_$name=/" \
			"$hdr/include/config/auto.conf"
		sed -i "/^#define CONFIG_$name 1\$/d" \
			"$hdr/include/generated/autoconf.h"
	done
	# Module BTF needs pahole --btf_features (1.26); only make reads this.
	if grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$hdr/include/config/auto.conf" &&
	    ! pahole --help 2>&1 | grep -q btf_features; then
		say "$(basename "$hdr"): pahole lacks --btf_features: no module BTF"
		sed -i 's/^CONFIG_DEBUG_INFO_BTF_MODULES=y$/CONFIG_DEBUG_INFO_BTF_MODULES=/' \
			"$hdr/include/config/auto.conf"
	fi
}

fetch_suite() {
	local suite=$1 kver dir pkgs p tmp
	if ! suite_setup "$suite"; then
		say "$suite: cannot fetch the package index; keeping what is there"
		return 0
	fi
	kver=$(suite_kver "$suite")
	[ -n "$kver" ] || { say "$suite: no linux-image-amd64"; return 1; }
	dir=$KROOT/$kver
	if [ -e "$dir/done" ]; then
		say "$suite: $kver (cached)"
		fix_host_tools "$suite" "$dir"
		return 0
	fi
	say "$suite: fetching $kver"
	mapfile -t pkgs < <(kernel_packages "$suite" "$kver")
	(cd "$KROOT/apt/$suite/debs" && suite_apt "$suite" apt-get -qq download "${pkgs[@]}")
	tmp=$dir.tmp
	rm -rf "$tmp" "$dir"
	mkdir -p "$tmp/root"
	for p in "${pkgs[@]}"; do
		dpkg -x "$(deb_of "$suite" "$p")" "$tmp/root"
	done
	mv "$tmp" "$dir"
	local img mods hdr
	img=$(first_of "$dir/root/boot/vmlinuz-$kver" \
		"$dir/root/usr/lib/modules/$kver/vmlinuz")
	mods=$(first_of "$dir/root/lib/modules/$kver" \
		"$dir/root/usr/lib/modules/$kver")
	hdr=$dir/root/usr/src/linux-headers-$kver
	if [ -z "$img" ] || [ -z "$mods" ] || [ ! -f "$hdr/Makefile" ]; then
		say "$kver: image, modules or headers missing"
		return 1
	fi
	# Packages that keep modules in /usr/lib/modules (sid) leave depmod to
	# their postinst: run it here (depmod -b reads <root>/lib/modules).
	if [ ! -e "$mods/modules.dep" ]; then
		[ -e "$dir/root/lib/modules" ] || {
			mkdir -p "$dir/root/lib"
			ln -s ../usr/lib/modules "$dir/root/lib/modules"
		}
		depmod -b "$dir/root" "$kver"
	fi
	ln -sfn "${img#"$dir"/}" "$dir/vmlinuz"
	ln -sfn "${mods#"$dir"/}" "$dir/modules"
	ln -sfn "${hdr#"$dir"/}" "$dir/build"
	# The headers name their tools and common part by absolute paths.
	fix_links "$dir/root"
	sed -i "s|/usr/src/|$dir/root/usr/src/|g" "$hdr/Makefile"
	fix_host_tools "$suite" "$dir"
	adapt_headers "$hdr"
	echo "$suite" >"$dir/suite"
	touch "$dir/done"
	say "$suite: $kver ready in ${dir#"$REPO"/}"
}

# Absolute symbolic links inside the unpacked tree point at the host's root:
# make them point inside the tree.
fix_links() {
	local root=$1 l t
	while IFS= read -r l; do
		t=$(readlink "$l")
		case $t in
		/*) ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$root$t")" "$l" ;;
		esac
	done < <(find "$root" -type l)
}

command -v patchelf >/dev/null || { say "patchelf is missing (scripts/setup.sh)"; exit 1; }
mkdir -p "$KROOT"
for s in $SUITES; do
	fetch_suite "$s"
done
