#!/bin/bash
# Host half of t_deb.sh (its "vm-host-prepare" step, run by run.sh before
# the boot): the Debian packages' whole life on the kernel under test, with
# apt-get in a throw-away root, natively on the host.
#
# Why on the host: installing cppaufs-dkms runs `dkms build` and depmod.
# The guest, under TCG, needs about two minutes per compilation and, over
# 9p, minutes more per depmod, and this test compiles twice (install and
# upgrade) and runs depmod four times.  apt-get and dpkg also read
# thousands of files, which is slow over 9p.
#
# The throw-away root, in a private mount namespace (nothing of the host
# changes):
#   - an overlay of the host's / with its upper layer on a tmpfs, where
#     apt-get, dpkg and dkms write what they like;
#   - /proc, /sys, /dev, a fresh /run and /tmp;
#   - /lib/modules holds the kernel under test only, as an overlay of its
#     modules (installed, or unpacked by scripts/kernels.sh, whose headers
#     are then linked into /usr/src) with an upper layer of its own: what
#     `dkms install` and depmod write there is what the guest gets;
#   - `uname -r` says the kernel under test, so the packages' maintainer
#     scripts build for it as on a machine running it (DKMS builds for the
#     running kernel and the newest installed one, here both the same);
#   - man-db's trigger is off (it rebuilds the whole index, for nothing
#     here).
# Steps, each checked, the results written one a line ("ok: ..." or
# "FAIL: ...") to $D/host-results for the guest to report:
#   1. build the packages of the working tree (packaging/build-deb.sh):
#      <version>, and cppaufs-dkms <version>+test1 as the upgrade (it is the
#      package whose upgrade does something: DKMS rebuilds; the tools are
#      plain files); cached under build/pkg/vm-debs for the other kernels'
#      runs of the same tree;
#   2. apt-get install ./cppaufs-dkms_<version>_all.deb
#      ./cppaufs-tools_<version>_<arch>.deb: DKMS built and installed the
#      module for the kernel, depmod knows it, the helper, auctl and the
#      manual pages are there; the state goes to $D/state-install;
#   3. apt-get install ./cppaufs-dkms_<version>+test1_all.deb: DKMS removed
#      the old version and built (anew, not a copy) and installed the new
#      one; $D/state-upgrade;
#   3b. a kernel installed later (another kernel of the host, with its
#      headers, appears in /lib/modules): the kernel's hook
#      /etc/kernel/postinst.d/dkms builds and installs the module for it;
#   4. apt-get purge of both: no file of either package, no DKMS tree, no
#      module (of either kernel), no depmod entry and no file named
#      *cppaufs* is left.
# The guest applies each state to its own throw-away root, modprobes the
# module and mounts through mount(8) with the packaged helper.
set -euo pipefail
: "${CPPAUFS_KVER:?}" "${CPPAUFS_REPO:?}" "${CPPAUFS_VM_DIR:?}"

if [ "${1:-}" != --in-namespace ]; then
	exec unshare -m --propagation private "$0" --in-namespace
fi

kver=$CPPAUFS_KVER
repo=$CPPAUFS_REPO
D=$CPPAUFS_VM_DIR/deb
arch=$(dpkg --print-architecture)
for t in dpkg-buildpackage dh_dkms dkms apt-get; do
	command -v "$t" >/dev/null || { echo "deb_host: $t is not installed (make setup)"; exit 1; }
done
ver=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
up=$ver+test1

rm -rf "$D"
mkdir -p "$D"
results=$D/host-results
: >"$results"
ok() { echo "ok: $*" | tee -a "$results"; }
step() { echo "deb_host: [${SECONDS}s] $*"; }
# One line each, at most 400 characters.
bad() {
	local m
	m=$(tr '\n' '|' <<<"$*" | sed 's/|$//; s/|/ | /g')
	[ ${#m} -le 400 ] || m="${m:0:400}..."
	echo "FAIL: $m" | tee -a "$results"
}
# check WHAT CMD...
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$what"; else bad "$what: $out"; fi
}
# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected [$2], got [$3]"; fi
}
# re TEXT: TEXT as an ERE matching itself (versions have dots and pluses).
# shellcheck disable=SC2001
re() { sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$1"; }
# check_grep WHAT ERE TEXT
check_grep() {
	if grep -qE -- "$2" <<<"$3"; then ok "$1"; else bad "$1: no /$2/ in: $3"; fi
}

# -- 1. packages ---------------------------------------------------------------
# Built once per content of the package sources: the runs of the other
# kernels reuse them (under a lock, as ctest runs two VMs at once).
cache=$repo/build/pkg/vm-debs
mkdir -p "$cache"
exec 8>"$cache/.lock"
flock 8
tree=$(mktemp -d "$cache/tree.XXXXXX")
"$repo/packaging/copy-tree.sh" "$repo" "$tree"
# The key covers what goes into the packages (not tests/, docs/, bench/).
key=$( (cd "$tree" && find CMakeLists.txt Makefile Kbuild dkms.conf debian kmod include \
	mk tools man completions packaging -type f -print0 2>/dev/null |
	LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
rm -rf "$tree"
if [ ! -e "$cache/$key/done" ]; then
	find "$cache" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
	step "building the packages $ver and $up (cppaufs-dkms only)"
	"$repo/packaging/build-deb.sh" --out "$cache/$key/$ver" \
		--work "$cache/work-$ver" >/dev/null
	"$repo/packaging/build-deb.sh" --version "$up" --indep --out "$cache/$key/$up" \
		--work "$cache/work-$up" >/dev/null
	rm -rf "$cache"/work-*
	touch "$cache/$key/done"
else
	step "packages of this tree already built ($cache/$key)"
fi
mkdir -p "$D/debs/$ver" "$D/debs/$up"
cp "$cache/$key/$ver/cppaufs-dkms_${ver}_all.deb" \
	"$cache/$key/$ver/cppaufs-tools_${ver}_${arch}.deb" "$D/debs/$ver/"
cp "$cache/$key/$up/cppaufs-dkms_${up}_all.deb" "$D/debs/$up/"
flock -u 8
exec 8>&-

# -- the throw-away root -----------------------------------------------------------
T=$D/tmpfs
R=$D/root
mkdir -p "$T" "$R"
mount -t tmpfs -o size=4g,mode=0755 tmpfs "$T"
mkdir -p "$T/upper" "$T/work" "$T/mupper" "$T/mwork"
mount -t overlay overlay -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" "$R"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"

unpacked=${CPPAUFS_KERNELS_DIR:-$repo/build/kernels}/$kver
if [ -d "/lib/modules/$kver" ]; then
	kmods=/lib/modules/$kver
elif [ -e "$unpacked/done" ]; then
	kmods=$(realpath "$unpacked/modules")
	kroot=$(realpath "$unpacked")
	# The throw-away root has fresh /tmp and /run: show an unpacked kernel
	# that lives there at its own path.
	case $kroot in
	/tmp/* | /run/*)
		mkdir -p "$R$kroot"
		mount --bind "$kroot" "$R$kroot"
		;;
	esac
	for h in "$unpacked"/root/usr/src/*; do
		ln -sfn "$(realpath "$h")" "$R/usr/src/${h##*/}"
	done
else
	echo "deb_host: no kernel $kver (neither /lib/modules/$kver nor $unpacked)"
	exit 1
fi
rmods=$R$(realpath /lib/modules)
mount -t tmpfs -o mode=0755 tmpfs "$rmods"
mkdir "$rmods/$kver"
mount -t overlay overlay -o "lowerdir=$kmods,upperdir=$T/mupper,workdir=$T/mwork" "$rmods/$kver"
# scripts/kernels.sh made the headers link relative to its own tree, where
# the modules may sit in /lib rather than /usr/lib: point it at them.
[ -z "${kroot:-}" ] || ln -sfn "$(realpath "$unpacked/build")" "$rmods/$kver/build"
[ -e "$rmods/$kver/build/include" ] || {
	echo "deb_host: no headers for $kver at /lib/modules/$kver/build"
	exit 1
}

# `uname -r` says the kernel under test, whatever calls it (the maintainer
# scripts run with dpkg's PATH): the real uname is copied aside and a
# wrapper bound over it.
cp -p /usr/bin/uname "$T/uname.real"
cat >"$T/uname" <<UNAME
#!/bin/sh
# deb_host.sh: this root runs "on" the kernel under test.
[ "\$*" = -r ] && { echo '$kver'; exit 0; }
exec /run/uname.real "\$@"
UNAME
chmod 0755 "$T/uname"
cp -p "$T/uname.real" "$R/run/uname.real"
mount --bind "$T/uname" "$R/usr/bin/uname"
rm -f "$R/var/lib/man-db/auto-update"
mkdir -p "$R/tmp/debs"
cp -r "$D/debs/." "$R/tmp/debs/"

inroot() {
	chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}
check_eq "uname -r in the throw-away root" "$kver" "$(inroot uname -r)"

# apt STEP ARGS...: apt-get in the root, its output in $D/apt-STEP.log.
apt() {
	local step=$1 rc=0
	shift
	inroot apt-get -y -o Dpkg::Use-Pty=0 "$@" >"$D/apt-$step.log" 2>&1 || rc=$?
	sed "s/^/  apt-$step: /" "$D/apt-$step.log"
	# A failed DKMS build leaves its log in the DKMS tree.
	local log
	for log in "$R"/var/lib/dkms/cppaufs/*/build/make.log; do
		[ -f "$log" ] || continue
		cp "$log" "$D/dkms-make-$step.log"
		tail -n 40 "$log" | sed "s/^/  dkms make.log: /"
	done
	return "$rc"
}

pkg_status() {
	# shellcheck disable=SC2016 # dpkg-query's fields
	inroot dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null || true
}

ko_path() { inroot modinfo -k "$kver" -n cppaufs 2>/dev/null || true; }

# save_state NAME: what the guest needs of the installed packages: the
# files the kernel's modules overlay gained (module, depmod's indexes) and
# the files of cppaufs-tools.
save_state() {
	local s=$D/state-$1 f
	mkdir -p "$s/modules" "$s/root"
	(cd "$T/mupper" && find . \( -type f -o -type l \) -print0 |
		cpio --quiet -0 -pdm "$s/modules")
	inroot dpkg-query -L cppaufs-tools | while IFS= read -r f; do
		if [ ! -f "$R$f" ] || [ -L "$R$f" ]; then continue; fi
		mkdir -p "$s/root${f%/*}"
		cp -p "$R$f" "$s/root$f"
	done
	local ko
	ko=$(ko_path)
	echo "$2" >"$s/version"
	# Without a module or a helper there is nothing for the guest to try.
	[ -n "$ko" ] && [ -f "$R/usr/sbin/mount.cppaufs" ] || return 0
	sha256sum <"$R$ko" | cut -d' ' -f1 >"$s/module-sha256"
	sha256sum <"$R/usr/sbin/mount.cppaufs" | cut -d' ' -f1 >"$s/helper-sha256"
	echo "${ko#/lib/modules/"$kver"/}" >"$s/module-path"
}

# check_installed V LOG [TOOLS-V]: cppaufs-dkms V (and cppaufs-tools V, or
# TOOLS-V) are installed, and DKMS built and installed module V for the
# kernel, from the postinst (its output in apt-LOG.log).
check_installed() {
	local v=$1 log=$2 tv=${3:-$1} st ko
	check_eq "cppaufs-dkms $v installed" "ii $v" "$(pkg_status cppaufs-dkms)"
	check_eq "cppaufs-tools $tv installed" "ii $tv" "$(pkg_status cppaufs-tools)"
	check_grep "the postinst built the module for $kver" \
		"^Building initial module for $(re "$kver")\$" "$(cat "$D/apt-$log.log")"
	st=$(inroot dkms status -m cppaufs 2>&1)
	check_grep "dkms status: cppaufs/$v installed for $kver" \
		"^cppaufs/$(re "$v"), $(re "$kver"), [^:]*: installed" "$st"
	check_eq "dkms status: cppaufs/$v only" "1" "$(grep -c '^cppaufs/' <<<"$st")"
	check "dkms source tree /usr/src/cppaufs-$v" test -f "$R/usr/src/cppaufs-$v/dkms.conf"
	ko=$(ko_path)
	check_grep "modinfo finds the module in updates/dkms" \
		"^/lib/modules/$(re "$kver")/updates/dkms/cppaufs\\.ko" "$ko"
	check_grep "depmod indexed it (modules.dep)" '^updates/dkms/cppaufs\.ko[^:]*:' \
		"$(cat "$rmods/$kver/modules.dep")"
	[ -z "$ko" ] || check_eq "the module's vermagic is $kver" "$kver" \
		"$(inroot modinfo -F vermagic "$ko" | cut -d' ' -f1)"
	check "mount.cppaufs where mount(8) looks: /sbin/mount.cppaufs" \
		inroot test -x /sbin/mount.cppaufs
	check "auctl on PATH" inroot sh -c 'command -v auctl'
	check "mount.cppaufs runs" inroot /sbin/mount.cppaufs --help
	check_eq "man finds cppaufs(5)" /usr/share/man/man5/cppaufs.5.gz \
		"$(inroot man -w 5 cppaufs 2>&1)"
	check_eq "man finds auctl(8)" /usr/share/man/man8/auctl.8.gz \
		"$(inroot man -w 8 auctl 2>&1)"
	check "bash completion of auctl" \
		test -f "$R/usr/share/bash-completion/completions/auctl"
}

# -- 2. install --------------------------------------------------------------------
step "apt-get install ./cppaufs-*_${ver}_*.deb"
if apt install install "/tmp/debs/$ver/cppaufs-dkms_${ver}_all.deb" \
	"/tmp/debs/$ver/cppaufs-tools_${ver}_${arch}.deb"; then
	ok "apt-get install ./cppaufs-*.deb ($ver)"
else
	bad "apt-get install ./cppaufs-*.deb ($ver) failed: $(tail -n 15 "$D/apt-install.log")"
fi
check_installed "$ver" install
save_state install "$ver"

# -- 3. upgrade --------------------------------------------------------------------
touch "$D/before-upgrade"
sleep 1
step "apt-get install ./cppaufs-dkms_${up}_all.deb"
if apt upgrade install "/tmp/debs/$up/cppaufs-dkms_${up}_all.deb"; then
	ok "apt-get install ./cppaufs-dkms_${up}_all.deb (an upgrade)"
else
	bad "apt-get install ./cppaufs-dkms_${up}_all.deb failed: $(tail -n 15 "$D/apt-upgrade.log")"
fi
check_installed "$up" upgrade "$ver"
check "the prerm removed cppaufs/$ver from DKMS" test ! -e "$R/var/lib/dkms/cppaufs/$ver"
check "dpkg removed /usr/src/cppaufs-$ver" test ! -e "$R/usr/src/cppaufs-$ver"
# DKMS keeps the log of a build and its module under <ver>/<kver>/<arch>/.
check_eq "DKMS compiled $up anew: its make.log and module are newer than the upgrade" 2 \
	"$(find "$R/var/lib/dkms/cppaufs/$up/$kver" \( -path '*/log/make.log' -o \
		-path '*/module/cppaufs.ko*' \) -newer "$D/before-upgrade" | wc -l)"
ko=$(ko_path)
check "the installed module is the new build" \
	test -n "$ko" -a -n "$(find "$R$ko" -newer "$D/before-upgrade" 2>/dev/null)"
save_state upgrade "$up"

# -- 3b. a kernel installed later ----------------------------------------------
# What a new kernel's packages run: linux-image's postinst calls
# /etc/kernel/postinst.d/dkms <kver>, which builds and installs every
# AUTOINSTALL module for it.  Another kernel of the host, with its headers,
# appears in /lib/modules (an overlay again) and the hook runs for it.
other=''
for b in /lib/modules/*/build; do
	k=$(basename "${b%/build}")
	[ "$k" != "$kver" ] && [ -e "$b/include" ] && other=$k
done
if [ -n "$other" ]; then
	step "a kernel installed later: /etc/kernel/postinst.d/dkms $other"
	mkdir -p "$rmods/$other" "$T/oupper" "$T/owork"
	mount -t overlay overlay \
		-o "lowerdir=/lib/modules/$other,upperdir=$T/oupper,workdir=$T/owork" \
		"$rmods/$other"
	if inroot /etc/kernel/postinst.d/dkms "$other" >"$D/kernel-hook.log" 2>&1; then
		ok "/etc/kernel/postinst.d/dkms $other"
	else
		bad "/etc/kernel/postinst.d/dkms $other failed: $(tail -n 15 "$D/kernel-hook.log")"
	fi
	sed 's/^/  kernel-hook: /' "$D/kernel-hook.log"
	check_grep "dkms status: cppaufs/$up installed for the new kernel $other" \
		"^cppaufs/$(re "$up"), $(re "$other"), [^:]*: installed" \
		"$(inroot dkms status -m cppaufs 2>&1)"
	check_grep "depmod of $other indexed it" '^updates/dkms/cppaufs\.ko[^:]*:' \
		"$(cat "$rmods/$other/modules.dep")"
else
	ok "no other kernel with headers on the host: the kernel hook is not tried"
fi

# -- 4. purge ----------------------------------------------------------------------
step "apt-get purge cppaufs-dkms cppaufs-tools"
if apt purge purge cppaufs-dkms cppaufs-tools; then
	ok "apt-get purge cppaufs-dkms cppaufs-tools"
else
	bad "apt-get purge failed: $(tail -n 15 "$D/apt-purge.log")"
fi
for p in cppaufs-dkms cppaufs-tools; do
	st=$(pkg_status "$p")
	check "dpkg has no $p left ($st)" test -z "$st" -o "$st" = "un " -o "$st" = "pn "
done
check_eq "dkms status" "" "$(inroot dkms status -m cppaufs 2>&1 | grep '^cppaufs/' || true)"
left=()
for f in "/usr/src/cppaufs-$ver" "/usr/src/cppaufs-$up" /var/lib/dkms/cppaufs \
	"/lib/modules/$kver/updates/dkms" ${other:+"/lib/modules/$other/updates/dkms"} \
	/usr/sbin/mount.cppaufs /usr/bin/auctl \
	/usr/share/man/man5/cppaufs.5.gz /usr/share/man/man8/auctl.8.gz \
	/usr/share/man/man8/mount.cppaufs.8.gz \
	/usr/share/bash-completion/completions/auctl \
	/usr/share/doc/cppaufs-dkms /usr/share/doc/cppaufs-tools; do
	if [ -e "$R$f" ] || [ -L "$R$f" ]; then left+=("$f"); fi
done
check_eq "files of the packages left" "" "${left[*]}"
check_eq "modinfo cppaufs" "" "$(ko_path)"
check_eq "modules.dep entries" "" \
	"$(grep -H cppaufs "$rmods/$kver/modules.dep" ${other:+"$rmods/$other/modules.dep"} || true)"
# Anything the packages, dpkg or DKMS made that has cppaufs in its name, in
# either upper layer (deleted files leave no trace there unless they
# existed before: then a whiteout, a character device, which is fine).
check_eq "paths named *cppaufs* anywhere in the root" "" \
	"$(cd "$T" && find upper mupper ${other:+oupper} -name '*cppaufs*' ! -type c | head -n 20)"

step "$(grep -c '^ok:' "$results") passed, $(grep -c '^FAIL:' "$results") failed"
