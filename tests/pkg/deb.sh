#!/bin/bash
# pkg/deb: `packaging/build-deb.sh` (make deb) builds cppaufs-dkms and
# cppaufs-tools out of a copy of the tree, and
#   - lintian finds no error or warning;
#   - each package holds exactly the expected files (dpkg-deb -c): the
#     module source and dkms.conf under /usr/src/cppaufs-<version>/, the
#     programs, manual pages and completion in cppaufs-tools;
#   - dkms.conf, the postinst and prerm that dh_dkms wrote (dkms add/build/
#     install through common.postinst, dkms remove --all) and the Depends
#     on dkms belong to cppaufs-dkms only, with the package's version;
#   - the packaged source builds the module with the command of its
#     dkms.conf, as `dkms build` runs it, for an installed kernel;
#   - the packaged programs run, with libstdc++ and Boost linked in;
#   - a package built as <version>+test1 (what t_deb upgrades to) is DKMS
#     module version <version>+test1;
#   - nothing is built in the source tree.
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
for t in dpkg-buildpackage dh_dkms lintian; do
	command -v "$t" >/dev/null || skip "$t is not installed (make setup)"
done

ver=$(pkg_version)
arch=$(dpkg --print-architecture)
section "version $ver everywhere"
check_eq "debian/changelog" "$ver" \
	"$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)"
check_eq "CMakeLists.txt" "$ver" \
	"$(sed -n 's/^project(cppaufs .*VERSION \([0-9.]*\)).*/\1/p' "$REPO/CMakeLists.txt")"

section "build"
out=$WORK/out
if ! "$REPO/packaging/build-deb.sh" --out "$out" --work "$WORK/work"; then
	fail "build-deb.sh failed"
	exit 1
fi
dkms_deb=$out/cppaufs-dkms_${ver}_all.deb
tools_deb=$out/cppaufs-tools_${ver}_${arch}.deb
check "cppaufs-dkms built" test -s "$dkms_deb"
check "cppaufs-tools built" test -s "$tools_deb"
check_eq "what apt-get install ./cppaufs-*.deb in the output directory installs" \
	"${dkms_deb##*/} ${tools_deb##*/}" "$(cd "$out" && echo cppaufs-*.deb)"
check_eq "build products in the source tree" "" "$(tree_products)"

section "lintian"
lint=$(lintian --fail-on error,warning --display-info "$out/cppaufs_${ver}_${arch}.changes" 2>&1)
rc=$?
printf '%s\n' "$lint" | grep -v '^running with root privileges' || true
check_eq "lintian --fail-on error,warning exit status" 0 "$rc"

# contents DEB: its files (not directories), without the leading "./".
contents() {
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort
}

section "cppaufs-dkms"
src=usr/src/cppaufs-$ver
want=$( {
	printf '%s\n' usr/share/doc/cppaufs-dkms/changelog.gz \
		usr/share/doc/cppaufs-dkms/copyright \
		"$src/dkms.conf" "$src/Makefile" "$src/Kbuild" "$src/mk/packages.mk"
	pkg_source_files kmod include | sed "s|^|$src/|"
} | sort)
check_eq "dpkg-deb -c cppaufs-dkms" "$want" "$(contents "$dkms_deb")"
check_eq "Architecture" all "$(dpkg-deb -f "$dkms_deb" Architecture)"
check_grep "Depends on dkms" '(^|, )dkms( |,|$)' "$(dpkg-deb -f "$dkms_deb" Depends)"

x=$WORK/dkms-deb
dpkg-deb -R "$dkms_deb" "$x"
conf=$x/$src/dkms.conf
check_has "dkms.conf: name, version, module" "$(cat "$conf")" \
	'PACKAGE_NAME="cppaufs"' "PACKAGE_VERSION=\"$ver\"" \
	'BUILT_MODULE_NAME[0]="cppaufs"' 'AUTOINSTALL="yes"'
check_eq "dkms.conf is the tree's, version aside" "" \
	"$(diff <(grep -v '^PACKAGE_VERSION=' "$REPO/dkms.conf") \
		<(grep -v '^PACKAGE_VERSION=' "$conf"))"
for f in postinst prerm; do
	check "$f exists and is executable" test -x "$x/DEBIAN/$f"
done
check_has "postinst: cppaufs $ver" "$(cat "$x/DEBIAN/postinst")" \
	'DKMS_NAME=cppaufs' "DKMS_VERSION=$ver"
# shellcheck disable=SC2016 # the script's own $VARIABLES, literally
check_grep "postinst: common.postinst adds, builds and installs it" \
	'^[[:space:]]+\$DKMS_POSTINST \$DKMS_NAME \$DKMS_VERSION ' "$(cat "$x/DEBIAN/postinst")"
check_grep "postinst runs /usr/lib/dkms/common.postinst on configure" \
	'for DKMS_POSTINST in /usr/lib/dkms/common.postinst' "$(cat "$x/DEBIAN/postinst")"
# shellcheck disable=SC2016
check_has "prerm: dkms remove --all on remove, upgrade, deconfigure" \
	"$(cat "$x/DEBIAN/prerm")" 'DKMS_NAME=cppaufs' "DKMS_VERSION=$ver" \
	'    remove|upgrade|deconfigure)' \
	'         dkms remove -m $DKMS_NAME -v $DKMS_VERSION --all'
others=()
for f in "$x"/DEBIAN/*; do
	case ${f##*/} in control | md5sums | postinst | prerm) ;; *) others+=("${f##*/}") ;; esac
done
check_eq "no other control files (postrm, preinst...)" "" "${others[*]}"

section "cppaufs-tools"
want=$(printf '%s\n' usr/bin/auctl usr/sbin/mount.cppaufs \
	usr/share/bash-completion/completions/auctl \
	usr/share/doc/cppaufs-tools/changelog.gz usr/share/doc/cppaufs-tools/copyright \
	usr/share/man/man5/cppaufs.5.gz usr/share/man/man8/auctl.8.gz \
	usr/share/man/man8/mount.cppaufs.8.gz | sort)
check_eq "dpkg-deb -c cppaufs-tools" "$want" "$(contents "$tools_deb")"
check_eq "Architecture" "$arch" "$(dpkg-deb -f "$tools_deb" Architecture)"
deps=$(dpkg-deb -f "$tools_deb" Depends)
for lib in libmount1 libsmartcols1; do
	check_grep "Depends on $lib" "(^|, )$lib" "$deps"
done
# libstdc++ and Boost.Program_options are linked in (tools/CMakeLists.txt):
# neither a dependency nor a library the programs load.
check_eq "no dependency on libstdc++, libgcc or Boost" "" \
	"$(grep -oE '(libstdc\+\+|libgcc|libboost)[^,]*' <<<"$deps")"
check_eq "no dkms dependency or maintainer scripts in cppaufs-tools" "" \
	"$(grep -o 'dkms[^,]*' <<<"$deps"; dpkg-deb --ctrl-tarfile "$tools_deb" |
		tar t | grep -E 'post|pre')"
t=$WORK/tools-deb
dpkg-deb -x "$tools_deb" "$t"
check "packaged mount.cppaufs runs" "$t/usr/sbin/mount.cppaufs" --help
check_eq "libraries of the packaged programs: no libstdc++ or Boost" "" \
	"$(ldd "$t/usr/sbin/mount.cppaufs" "$t/usr/bin/auctl" | grep -E 'libstdc|libboost')"
check "packaged auctl runs" "$t/usr/bin/auctl" --help
check "packaged cppaufs.5 is the source page" cmp "$REPO/man/cppaufs.5" \
	<(gzip -dc "$t/usr/share/man/man5/cppaufs.5.gz")

section "the packaged source builds with dkms.conf's MAKE"
kver=$(for b in /lib/modules/*/build; do [ -e "$b/Makefile" ] && basename "${b%/build}"; done |
	sort -V | tail -n 1)
if [ -z "$kver" ]; then
	fail "no kernel headers in /lib/modules/*/build"
else
	b=$WORK/dkms-build
	cp -a "$x/$src" "$b"
	# dkms sources dkms.conf with kernel_source_dir set and runs MAKE[0]
	# in its copy of the source.
	# shellcheck disable=SC2034 # kernel_source_dir: read by MAKE[0]
	if (cd "$b" && kernel_source_dir=/lib/modules/$kver/build &&
		. ./dkms.conf && eval "${MAKE[0]}") >"$WORK/dkms-make.log" 2>&1; then
		pass "MAKE[0] for $kver"
	else
		fail "MAKE[0] for $kver: $(tail -n 20 "$WORK/dkms-make.log")"
	fi
	ko=$b/kmod/cppaufs.ko
	check_eq "module name" cppaufs "$(modinfo -F name "$ko" 2>&1)"
	vm=$(modinfo -F vermagic "$ko" 2>&1)
	check "vermagic of $kver: $vm" test "${vm%% *}" = "$kver"
	check_grep "no compiler warning (W=1)" '^$' \
		"$(grep -E 'warning:' "$WORK/dkms-make.log" || echo)"
fi

section "an upgrade package, $ver+test1"
up=$WORK/out-up
if "$REPO/packaging/build-deb.sh" --version "$ver+test1" --indep --out "$up" \
	--work "$WORK/work-up" >/dev/null; then
	d=$up/cppaufs-dkms_${ver}+test1_all.deb
	check_grep "Version" "^$ver\\+test1\$" "$(dpkg-deb -f "$d" Version 2>&1)"
	check_grep "module source in /usr/src/cppaufs-$ver+test1/" \
		"^usr/src/cppaufs-$ver\\+test1/dkms.conf\$" "$(contents "$d")"
	y=$WORK/dkms-up
	dpkg-deb -R "$d" "$y"
	check_has "dkms.conf and postinst say $ver+test1" \
		"$(cat "$y/usr/src/cppaufs-$ver+test1/dkms.conf" "$y/DEBIAN/postinst")" \
		"PACKAGE_VERSION=\"$ver+test1\"" "DKMS_VERSION=$ver+test1"
	check "the tree's changelog is untouched" \
		test "$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)" = "$ver"
else
	fail "build-deb.sh --version $ver+test1 failed"
fi
check_eq "build products in the source tree" "" "$(tree_products)"
