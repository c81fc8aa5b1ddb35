#!/bin/bash
# Rig self-test, must FAIL: a kernel-warning-looking message.
. "$(dirname "$0")/../lib.sh"
echo "WARNING: CPU: 0 PID: 1 at fs/fake.c:1 fake+0x0/0x0" >/dev/kmsg
pass "wrote a fake warning"
