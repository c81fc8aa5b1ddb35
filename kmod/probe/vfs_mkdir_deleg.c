// SPDX-License-Identifier: GPL-2.0
/* Directory delegations: vfs_mkdir() and vfs_rmdir() may wait for one. */
#include <linux/fs.h>
#include <linux/mnt_idmapping.h>

static __maybe_unused int cpa_probe(struct inode *dir, struct dentry *dentry)
{
	struct dentry *d = vfs_mkdir(&nop_mnt_idmap, dir, dentry, 0700, NULL);

	return IS_ERR(d) ? PTR_ERR(d) : vfs_rmdir(&nop_mnt_idmap, dir, d, NULL);
}
