// SPDX-License-Identifier: GPL-2.0
/*
 * 6.2: permission checks read ACLs through ->get_inode_acl(); ->get_acl()
 * and ->set_acl() take a dentry, for vfs_get_acl() and vfs_set_acl().
 */
#include <linux/fs.h>
#include <linux/xattr.h>
#include <linux/posix_acl.h>

static struct posix_acl *cpa_probe_get(struct inode *inode, int type,
				       bool rcu)
{
	return NULL;
}

static const struct inode_operations cpa_probe_iops __maybe_unused = {
	.get_inode_acl	= cpa_probe_get,
};

static __maybe_unused struct posix_acl *cpa_probe(struct dentry *dentry)
{
	return vfs_get_acl(NULL, dentry, XATTR_NAME_POSIX_ACL_ACCESS);
}
