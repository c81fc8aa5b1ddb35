#!/bin/bash
# Rig self-test, must FAIL: a failed assertion fails the run.
. "$(dirname "$0")/../lib.sh"
assert_eq 1 2 "one"
