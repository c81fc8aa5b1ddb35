#!/bin/bash
# Rig self-test, must FAIL: a test that never ends is killed, and reported.
. "$(dirname "$0")/../lib.sh"
sleep 100000
