# auctl list --json: a "mounts" array, BRANCHES a number (null if unknown).
. "$CLI_DIR/common.sh"
run auctl_fx --json list
expect_rc 0
expect_out '{
   "mounts": [
      {
         "target": "/home/vagrant/aufs/merged",
         "si": "si_5d2a9c0e1f3b4a67",
         "branches": 3,
         "source": "none"
      },{
         "target": "/srv/union",
         "si": "si_00000000000000aa",
         "branches": 1,
         "source": "images"
      },{
         "target": "/mnt/stale",
         "si": "si_ffffffffffffffff",
         "branches": null,
         "source": "none"
      }
   ]
}'
if command -v python3 >/dev/null; then
	python3 -m json.tool "$T/out" >/dev/null || fail "not valid JSON"
fi
