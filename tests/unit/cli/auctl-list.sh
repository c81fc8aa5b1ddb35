# auctl list: one row per cppaufs mount of the mount table.
. "$CLI_DIR/common.sh"
run auctl_fx list
expect_rc 0
expect_no_err
expect_out 'TARGET                    SI                  BRANCHES SOURCE
/home/vagrant/aufs/merged si_5d2a9c0e1f3b4a67        3 none
/srv/union                si_00000000000000aa        1 images
/mnt/stale                si_ffffffffffffffff          none'
