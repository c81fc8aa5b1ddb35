# auctl show --json: a "branches" array plus top-level si and xino.
. "$CLI_DIR/common.sh"
run auctl_fx show --json si_5d2a9c0e1f3b4a67
expect_rc 0
expect_out '{
   "branches": [
      {
         "index": 0,
         "path": "/home/vagrant/aufs/l1",
         "perm": "rw",
         "brid": 64
      },{
         "index": 1,
         "path": "/home/vagrant/aufs/l2",
         "perm": "ro",
         "brid": 65
      },{
         "index": 2,
         "path": "/home/vagrant/aufs/l3",
         "perm": "ro",
         "brid": 66
      }
   ],
   "si": "si_5d2a9c0e1f3b4a67",
   "xino": "/home/vagrant/aufs/l1/.aufs.xino"
}'
if command -v python3 >/dev/null; then
	python3 -m json.tool "$T/out" >/dev/null || fail "not valid JSON"
fi
