// SPDX-License-Identifier: GPL-2.0
/*
 * Directory delegations: vfs_create(), which lost its directory argument,
 * vfs_mknod() and vfs_symlink() may wait for one.
 */
#include <linux/fs.h>
#include <linux/mnt_idmapping.h>

static __maybe_unused int cpa_probe(struct inode *dir, struct dentry *dentry)
{
	return vfs_create(&nop_mnt_idmap, dentry, 0600, NULL) ?:
	       vfs_mknod(&nop_mnt_idmap, dir, dentry, 0600, 0, NULL) ?:
	       vfs_symlink(&nop_mnt_idmap, dir, dentry, "x", NULL);
}
