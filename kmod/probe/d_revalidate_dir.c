// SPDX-License-Identifier: GPL-2.0
/* 6.14: ->d_revalidate gets the parent directory and the name. */
#include <linux/dcache.h>

static int cpa_probe_revalidate(struct inode *dir, const struct qstr *name,
				struct dentry *dentry, unsigned int flags)
{
	return 1;
}

const struct dentry_operations cpa_probe_dops = {
	.d_revalidate	= cpa_probe_revalidate,
};
