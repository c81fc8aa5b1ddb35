// SPDX-License-Identifier: GPL-2.0
/* 5.15: ->get_acl(inode, type) may be called in RCU mode, and is told so. */
#include <linux/fs.h>
#include <linux/posix_acl.h>

static struct posix_acl *cpa_probe_get(struct inode *inode, int type,
				       bool rcu)
{
	return NULL;
}

static const struct inode_operations cpa_probe_iops __maybe_unused = {
	.get_acl	= cpa_probe_get,
};
