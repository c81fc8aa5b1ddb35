# auctl show of a path that is no cppaufs mount point.
. "$CLI_DIR/common.sh"
run auctl_fx show /tmp
expect_rc 1
expect_err 'auctl: error: /tmp: not a cppaufs mount point (it is tmpfs)'
run auctl_fx show /home/vagrant
expect_rc 1
expect_err 'auctl: error: /home/vagrant: not a cppaufs mount point'
