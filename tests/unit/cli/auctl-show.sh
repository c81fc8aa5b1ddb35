# auctl show: the seed example's branches, by mount point and by id.
. "$CLI_DIR/common.sh"
want='INDEX PATH                  PERM BRID
    0 /home/vagrant/aufs/l1 rw     64
    1 /home/vagrant/aufs/l2 ro     65
    2 /home/vagrant/aufs/l3 ro     66
xino: /home/vagrant/aufs/l1/.aufs.xino'
for what in /home/vagrant/aufs/merged si_5d2a9c0e1f3b4a67 5d2a9c0e1f3b4a67; do
	run auctl_fx show "$what"
	expect_rc 0
	expect_no_err
	expect_out "$want"
done
run auctl_fx show -n -r -o brid,path 5d2a9c0e1f3b4a67
expect_rc 0
expect_out '64 /home/vagrant/aufs/l1
65 /home/vagrant/aufs/l2
66 /home/vagrant/aufs/l3'
