#!/bin/bash
# Replay the aufs walkthrough of the seed blog post with cppaufs, in a VM:
#
#   scripts/demo.sh [KVER]      (`make demo` runs it after building)
#
# On the host this boots KVER (default: the newest kernel with a built
# module) through scripts/vm/run.sh, which runs this same script inside the
# VM (CPPAUFS_VM=1).  There each step is printed as `$ command` followed by
# its output, like a terminal transcript.  A step that fails shows its exit
# status and the walkthrough goes on: the demo shows what the module does
# today, it is not a test.
set -euo pipefail

if [ -z "${CPPAUFS_VM:-}" ]; then
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	kver=${1:-}
	if [ -z "$kver" ]; then
		for d in /lib/modules/*/build; do
			k=$(basename "$(dirname "$d")")
			[ -r "/boot/vmlinuz-$k" ] && [ -r "$repo/build/mod/$k/kmod/cppaufs.ko" ] &&
				kver=$(printf '%s\n' "$kver" "$k" | sed '/^$/d' | sort -V | tail -n 1)
		done
	fi
	if [ -z "$kver" ]; then
		echo "demo: no kernel with a built module; run \`make demo\` (or make modules-all)" >&2
		exit 1
	fi
	exec "$repo/scripts/vm/run.sh" --kernel "$kver" --timeout 400 -- "$repo/scripts/demo.sh"
fi

# ---- inside the VM -----------------------------------------------------------
# Print a command line, then run it with bash; never fail the demo.
step() {
	printf '$ %s\n' "$1"
	local rc=0
	bash -c "$1" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || printf '[exit status %d]\n' "$rc"
	return 0
}
say() { printf '\n# %s\n' "$*"; }

build=${CPPAUFS_BUILD:-}
say "cppaufs demo on Linux $(uname -r): the aufs walkthrough of the seed post"

# The mount helper (mount(8) runs /sbin/mount.cppaufs for -t cppaufs) and
# auctl, installed into the VM's throw-away root.
tools=0
if [ -n "$build" ] && [ -x "$build/tools/mount.cppaufs" ]; then
	if [ -f "$build/cmake_install.cmake" ] &&
		cmake --install "$build" --prefix /usr >/dev/null 2>&1 &&
		[ -x /sbin/mount.cppaufs ]; then
		tools=1
	else
		install -m 0755 "$build/tools/mount.cppaufs" /sbin/mount.cppaufs
		[ ! -x "$build/tools/auctl" ] || install -m 0755 "$build/tools/auctl" /usr/local/bin/auctl
		tools=1
	fi
fi
if [ "$tools" -eq 1 ]; then
	say "tools installed: $(command -v mount.cppaufs) $(command -v auctl || true)"
	mount_cmd='mount -t cppaufs -o dirs=./l1:./l2:./l3/ none ./merged/'
else
	say "tools not built: mount(8) -i, straight to mount(2) without the helper"
	mount_cmd='mount -i -t cppaufs -o dirs=./l1:./l2:./l3/ none ./merged/'
fi

step 'grep cppaufs /proc/filesystems'

mkdir -p /root
cd /root
step 'mkdir aufs'
cd aufs
printf '$ cd aufs/\n'
step 'mkdir l1 l2 l3'
step 'echo "l1" > l1/container.txt'
step 'echo "l2" > l2/image2.txt'
step 'echo "l3" > l3/image3.txt'
step 'mkdir merged'
step "$mount_cmd"

say "the mount's branches in sysfs"
step 'cat /sys/fs/cppaufs/si_*/*'
if command -v auctl >/dev/null; then
	step 'auctl list'
	step 'auctl show ./merged'
fi

say "l1 l2 l3 merged into merged/"
step 'ls merged/'

say "writing a file of the writable branch l1 changes l1/container.txt"
step 'echo "update" >> ./merged/container.txt'
step 'cat merged/container.txt'
step 'cat l1/container.txt'

say "writing a file of the read-only branch l2: copied up to l1, l2 unchanged"
step 'echo "update" >> ./merged/image2.txt'
step 'ls merged/'
step 'cat merged/image2.txt'
step 'cat l2/image2.txt'
step 'ls l1'
step 'cat l1/image2.txt'

say "deleting a file of the read-only branch l3: a whiteout in l1, l3 unchanged"
step 'rm merged/image3.txt'
step 'ls merged/'
step 'ls -a l1/'
step 'ls l3/image3.txt'

say "a branch added to the mounted union: l4 appears under merged/ at once"
step 'mkdir l4'
step 'echo "l4" > l4/module.txt'
step "mount -o remount,append:$PWD/l4=rr ./merged"
step 'ls merged/'
step 'cat /sys/fs/cppaufs/si_*/br3'
say "its permission changed"
step "mount -o remount,mod:$PWD/l4=ro ./merged"
step 'cat /sys/fs/cppaufs/si_*/br3'
say "removing it is refused while a file of it is open, and done once it is closed"
# The kernel logs the refusal too: the rig is told to expect it.
[ -z "${CPPAUFS_EXPECT_DMESG:-}" ] ||
	echo 'cppaufs: del:.*: branch busy: 1 open file' >>"$CPPAUFS_EXPECT_DMESG"
step 'tail -f merged/module.txt >/dev/null 2>&1 &'
step 'sleep 1'
step "mount -o remount,del:$PWD/l4 ./merged"
[ "$tools" -eq 0 ] || step "auctl del ./merged $PWD/l4"
step 'pkill -x tail'
step 'sleep 1'
step "mount -o remount,del:$PWD/l4 ./merged"
step 'ls merged/'
step 'ls /sys/fs/cppaufs/si_*/'

say "clean-up"
step 'umount ./merged'
step 'ls /sys/fs/cppaufs/'
printf '\ndemo: walkthrough finished on Linux %s\n' "$(uname -r)"
