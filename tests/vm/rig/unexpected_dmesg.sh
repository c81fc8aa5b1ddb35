#!/bin/bash
# Rig self-test, must FAIL: a kernel message naming cppaufs that the test did
# not declare.
. "$(dirname "$0")/../lib.sh"
echo "cppaufs: bogus" >/dev/kmsg
pass "wrote an undeclared message"
