#!/bin/bash
# Rig self-test, run with --icount, must FAIL: the debug-trap warning left
# out of the judgement hides no other warning.
"$(dirname "$0")/icount_db.sh"
echo "WARNING: CPU: 0 PID: 1 at fs/fake.c:1 fake+0x0/0x0" >/dev/kmsg
